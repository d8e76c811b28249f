import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SessionInfo } from '../../src/core/api/app'
import { SAMPLE_RECORDING } from '../../src/core/sessions/service'
import { samplesOf } from '../helpers/audio'
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
        const listed = await start(home, 'sessions', '--json').exited
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
})
