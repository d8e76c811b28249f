import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { SITES } from '../../src/core/api/app'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { SessionStore } from '../../src/core/sessions/store'
import { samplesOf } from '../helpers/audio'
import { REPO_ROOT } from '../helpers/paths'
import { sessionOf, start } from '../helpers/recorders'
import { tinyModel } from './model-fixture'

describe('processes sharing one store', () => {
  it('four recorders of one session and a listing loop: every site complete and lossless, a second writer of a site refused', async () => {
    const home = mkdtempSync(join(tmpdir(), 'phonoscope-shared-'))
    const model = tinyModel()
    const record = (...args: string[]) => start(home, 'record', '--model', model, ...args)
    // 30.4 s replayed at 4x: 7.6 s, long enough for the others to join
    const first = record('--file', SAMPLE_RECORDING, '--speed', '4', '--site', 'AV')
    const id = await sessionOf(first)
    const others = ['PV', 'TV', 'MV'].map((site) => record('--session', id, '--site', site))
    const second = record('--session', id, '--site', 'AV')

    let listings = 0
    let running = true
    const recorders = Promise.all([first, ...others].map((r) => r.exited)).finally(() => (running = false))
    const listing = (async () => {
      while (running) {
        const listed = await start(home, 'sessions', 'list', '--json').exited
        expect(listed.status, listed.stderr).toBe(0)
        listings++
      }
    })()
    const statuses = await recorders
    await listing

    for (const s of statuses) expect(s.status, s.stderr).toBe(0)
    const refused = await second.exited
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(new RegExp(`session ${id} site AV: is already being recorded by process \\d+`))
    expect(listings).toBeGreaterThan(0)

    const folder = join(home, 'sessions', id)
    const info = JSON.parse(readFileSync(join(folder, 'session.json'), 'utf8')) as SessionInfo
    expect(info.status).toBe('complete')
    expect(info.sites.map((s) => [s.site, s.status])).toEqual(['AV', 'PV', 'TV', 'MV'].map((s) => [s, 'done']))
    const source = await samplesOf(SAMPLE_RECORDING)
    for (const site of info.sites) {
      expect(site.duration_s).toBeCloseTo(source.length / 4000, 6)
      expect(await samplesOf(join(folder, `${site.site}.wav`))).toEqual(source)
    }
    expect(readdirSync(folder).sort()).toEqual(['AV.wav', 'MV.wav', 'PV.wav', 'TV.wav', 'session.json'])
  }, 120_000)

  it('loses no update when four processes change their own sites of one session at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-updates-'))
    const store = new SessionStore(dir)
    const id = '20260101-000000-test'
    const sites = SITES.map((site) => ({
      site,
      status: 'pending' as const,
      duration_s: 0,
      sample_rate: 0,
      windows: [],
    }))
    const model = { name: 'none', sha256: '', aggregation: 'mean' }
    await store.create({
      id,
      created: '',
      patient: '',
      status: 'recording',
      source: { kind: 'file' },
      sites,
      model,
      notes: '',
      dropped_windows: 0,
    })
    const updates = 40
    // each process adds 1 to its own site's duration, `updates` times, as fast as it can
    const script = (site: number) => `
      const { SessionStore } = await import(${JSON.stringify(join(REPO_ROOT, 'src/core/sessions/store.ts'))})
      const store = new SessionStore(${JSON.stringify(dir)})
      for (let i = 0; i < ${updates}; i++) await store.update('${id}', (info) => void (info.sites[${site}].duration_s += 1))`
    const writers = SITES.map((_, site) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(site)], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      })
      return new Promise((resolve) => child.once('exit', resolve))
    })
    expect(await Promise.all(writers)).toEqual(SITES.map(() => 0))
    expect((await store.get(id)).sites.map((s) => s.duration_s)).toEqual(SITES.map(() => updates))
    await store.letGo(id)
    expect(readdirSync(join(dir, id))).toEqual(['session.json'])
  }, 60_000)
})
