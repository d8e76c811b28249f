import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { phonoscope } from '../helpers/cli'
import { REPO_ROOT } from '../helpers/paths'
import { sessionOf, start } from '../helpers/recorders'
import { tinyModel } from './model-fixture'
import { samplesOf } from '../helpers/audio'

const siteWav = (dir: string): string | undefined => {
  const session = existsSync(dir) ? readdirSync(dir).find((d) => /^\d{8}-/.test(d)) : undefined
  const wav = session && join(dir, session, 'AV.wav')
  return wav && existsSync(wav) ? wav : undefined
}

/** Until the file holds audio beyond its header. */
async function audioIn(wav: string): Promise<void> {
  while (!existsSync(wav) || statSync(wav).size <= 44) await sleep(20)
}

/**
 * Every file of a folder tree with its size and modification time: what a read-only command must leave as is. The
 * database's WAL index (-shm) is left out: it is the shared memory every reader maps, not data.
 */
const snapshot = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => !name.endsWith('-shm'))
    .sort()
    .map((name) => {
      const s = statSync(join(dir, name))
      return `${name} ${s.size} ${s.mtimeMs}`
    })

const sessionJson = (folder: string): SessionInfo =>
  JSON.parse(readFileSync(join(folder, 'session.json'), 'utf8')) as SessionInfo

describe('kill -9 during a recording', () => {
  it('keeps everything but at most the last second; the session lists as interrupted (read-only) and the next start repairs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-crash-')) // --out is the home: its database and sessions/
    const sessions = join(dir, 'sessions')
    const model = tinyModel()
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'phonoscope.mjs'), 'record', '--file', SAMPLE_RECORDING, '--out', dir, '--model', model],
      { stdio: 'ignore' },
    )
    // the replay runs at real time from its first sample: time since the WAV first held audio = audio captured
    let firstAudio: number | undefined
    while (firstAudio === undefined) {
      const wav = siteWav(sessions)
      if (wav && statSync(wav).size > 44) firstAudio = performance.now()
      else await sleep(20)
    }
    await sleep(4500)
    child.kill('SIGKILL')
    const killedAfter = (performance.now() - firstAudio) / 1000
    await new Promise((resolve) => child.once('exit', resolve))
    const wav = siteWav(sessions)!

    const before = snapshot(dir)
    const listed = phonoscope('sessions', 'list', '--sessions', dir, '--json')
    expect(listed.status).toBe(0)
    expect(snapshot(dir)).toEqual(before) // listing never writes
    const [session] = JSON.parse(listed.stdout) as SessionInfo[]
    expect(session!.status).toBe('interrupted')
    const site = session!.sites.find((s) => s.site === 'AV')!
    expect(site.status).toBe('interrupted')
    expect(site.duration_s).toBeGreaterThanOrEqual(killedAfter - 1)

    // the next start (another recording) repairs it on disk
    const next = phonoscope('record', '--file', SAMPLE_RECORDING, '--speed', '0', '--out', dir, '--model', model)
    expect(next.status, next.stderr).toBe(0)
    expect(next.stderr).toContain(`session ${session!.id}: a recording whose process is gone is marked interrupted`)
    const repaired = sessionJson(join(sessions, session!.id))
    expect(repaired.status).toBe('interrupted')
    expect(repaired.sites.find((s) => s.site === 'AV')).toMatchObject({
      status: site.status,
      duration_s: site.duration_s,
    })
    expect(readdirSync(join(sessions, session!.id)).sort()).toEqual(['AV.wav', 'session.json']) // its stale locks gone

    const recorded = await samplesOf(wav)
    expect(recorded.length / 4000).toBeCloseTo(site.duration_s, 3)
    const source = await samplesOf(SAMPLE_RECORDING)
    expect(recorded).toEqual(source.slice(0, recorded.length)) // lossless, in order, nothing invented
  }, 60_000)

  it('of one of two processes recording a session: the next start repairs the killed site and leaves the live one alone', async () => {
    const home = mkdtempSync(join(tmpdir(), 'phonoscope-crash-'))
    const model = tinyModel()
    const live = start(home, 'record', '--model', model, '--file', SAMPLE_RECORDING, '--site', 'AV')
    const id = await sessionOf(live)
    const folder = join(home, 'sessions', id)
    const killed = start(home, 'record', '--model', model, '--session', id, '--site', 'PV')
    await audioIn(join(folder, 'PV.wav'))
    await sleep(2500)
    killed.child.kill('SIGKILL')
    await killed.exited

    const next = await start(home, 'record', '--model', model, '--session', id, '--site', 'TV', '--seconds', '1').exited
    expect(next.status, next.stderr).toBe(0)
    expect(next.stderr).toContain(`session ${id}: a recording whose process is gone is marked interrupted`)
    const repaired = sessionJson(folder)
    expect(repaired.status).toBe('recording') // its first recorder still runs
    expect(repaired.sites.map((s) => s.status)).toEqual(['recording', 'interrupted', 'done', 'pending'])
    const pv = repaired.sites.find((s) => s.site === 'PV')!
    const source = await samplesOf(SAMPLE_RECORDING)
    const kept = await samplesOf(join(folder, 'PV.wav'))
    expect(kept.length).toBeGreaterThan(4000)
    expect(kept.length / 4000).toBeCloseTo(pv.duration_s, 3)
    expect(kept).toEqual(source.slice(0, kept.length))

    live.child.kill('SIGINT')
    const ended = await live.exited
    expect(ended.status, ended.stderr).toBe(0)
    const final = sessionJson(folder)
    expect(final.status).toBe('incomplete') // finished with MV never recorded and PV cut off
    expect(final.sites.map((s) => s.status)).toEqual(['done', 'interrupted', 'done', 'pending'])
    const av = await samplesOf(join(folder, 'AV.wav'))
    expect(av.length / 4000).toBeCloseTo(final.sites[0]!.duration_s, 6)
    expect(av).toEqual(source.slice(0, av.length)) // not a sample touched by the repair next to it
    expect(readdirSync(folder).sort()).toEqual(['AV.wav', 'PV.wav', 'TV.wav', 'session.json'])
  }, 90_000)
})
