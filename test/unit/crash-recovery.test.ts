import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { SAMPLE_RECORDING } from '../../src/core/sessions/service'
import { phonoscope } from '../helpers/cli'
import { REPO_ROOT } from '../helpers/paths'
import { tinyModel } from './model-fixture'
import { samplesOf } from '../helpers/audio'

const siteWav = (dir: string): string | undefined => {
  const session = existsSync(dir) ? readdirSync(dir).find((d) => /^\d{8}-/.test(d)) : undefined
  const wav = session && join(dir, session, 'AV.wav')
  return wav && existsSync(wav) ? wav : undefined
}

describe('kill -9 during a recording', () => {
  it('keeps everything but at most the last second; the session shows as interrupted and its audio plays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-crash-'))
    const model = tinyModel()
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'phonoscope.mjs'), 'record', '--file', SAMPLE_RECORDING, '--out', dir, '--model', model],
      { stdio: 'ignore' },
    )
    // the replay runs at real time from its first sample: time since the WAV first held audio = audio captured
    let firstAudio: number | undefined
    while (firstAudio === undefined) {
      const wav = siteWav(dir)
      if (wav && statSync(wav).size > 44) firstAudio = performance.now()
      else await sleep(20)
    }
    await sleep(4500)
    child.kill('SIGKILL')
    const killedAfter = (performance.now() - firstAudio) / 1000
    await new Promise((resolve) => child.once('exit', resolve))

    const listed = phonoscope('sessions', '--dir', dir, '--json') // the next start repairs and marks it
    expect(listed.status).toBe(0)
    const [session] = JSON.parse(listed.stdout) as SessionInfo[]
    expect(session!.status).toBe('interrupted')
    const site = session!.sites.find((s) => s.site === 'AV')!
    expect(site.status).toBe('interrupted')
    expect(site.duration_s).toBeGreaterThanOrEqual(killedAfter - 1)

    const recorded = await samplesOf(siteWav(dir)!)
    expect(recorded.length / 4000).toBeCloseTo(site.duration_s, 3)
    const source = await samplesOf(SAMPLE_RECORDING)
    expect(recorded).toEqual(source.slice(0, recorded.length)) // lossless, in order, nothing invented
  }, 60_000)
})
