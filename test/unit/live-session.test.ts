import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Events, SessionInfo } from '../../src/core/api/app'
import { classifyFeatures } from '../../src/core/analysis/classify'
import { recordingFeatures } from '../../src/core/analysis/recording'
import { SessionService, type ModelRuntime } from '../../src/core/sessions/service'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { SessionStore } from '../../src/core/sessions/store'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'
import { samplesOf } from '../helpers/audio'

function record<E extends keyof Events>(service: SessionService, event: E): Events[E][] {
  const seen: Events[E][] = []
  service.on(event, (e) => seen.push(e))
  return seen
}

const siteDone = (service: SessionService, id: string, site: string): Promise<SessionInfo> =>
  new Promise((resolve) =>
    service.on('session', (s) => {
      if (s.id === id && s.sites.find((r) => r.site === site)?.status === 'done') resolve(s)
    }),
  )

describe('a live session replaying the sample recording', () => {
  let runtime: ModelRuntime
  beforeAll(async () => {
    runtime = await inProcessRuntime(tinyModel())
  })

  it('streams every column, verdicts every hop (provisional before 936 frames), records losslessly, and its final verdict is an offline classify of the recording', async () => {
    const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-sessions-')))
    const service = new SessionService(store, runtime, { hopS: 3 })
    const columns = record(service, 'columns')
    const verdicts = record(service, 'verdict')
    const session = await service.call('session.start', { patient: 'test', source: { kind: 'file', speed: 0 } })
    const done = siteDone(service, session.id, 'AV')
    await service.call('site.start', { session: session.id, site: 'AV' })
    const info = await done

    const source = await samplesOf(SAMPLE_RECORDING)
    const frames = 1 + Math.floor((source.length - 256) / 128)
    expect(columns.reduce((n, c) => n + c.frames, 0)).toBe(frames)
    expect(columns.map((c) => c.first_frame)).toEqual(
      columns.map((_, i) => columns.slice(0, i).reduce((n, c) => n + c.frames, 0)),
    )

    // a verdict every 94 frames (3 s), provisional until a whole 936-frame window exists; unpaced replay may
    // outrun inference, and then windows are dropped and counted, never queued
    expect(verdicts.length + info.dropped_windows).toBe(Math.floor(frames / 94))
    expect(verdicts.length).toBeGreaterThan(0)
    expect(verdicts[0]!.provisional).toBe(true)
    expect(verdicts.filter((v) => !v.provisional).every((v) => v.frames === 936)).toBe(true)
    for (const v of verdicts) {
      expect(Object.values(v.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
      expect(v.attention.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4)
    }

    const wav = store.sitePath(session.id, 'AV')
    expect(await samplesOf(wav)).toEqual(source)

    const offline = await classifyFeatures(
      await recordingFeatures(wav, runtime.card.frontend),
      runtime.card,
      runtime.inferer,
    )
    const site = info.sites.find((s) => s.site === 'AV')!
    expect(site.verdict).toBe(offline.verdict)
    expect(site.probabilities).toEqual(offline.probabilities)
    // the site's verdict names the offline windows it is the mean of
    expect(site.verdict_windows!.map((w) => w.index)).toEqual(offline.verdict_windows)
    expect(site.verdict_windows!.length).toBeGreaterThan(0)
    expect(site.windows).toHaveLength(verdicts.length)
    expect(info.verdict).toBe(offline.verdict)
  })

  it('refuses a file outside the allowed folders, an unknown site and an unknown session with clear errors', async () => {
    const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-sessions-')))
    const service = new SessionService(store, runtime, { fileRoots: [join(tmpdir(), 'nowhere')] })
    await expect(service.call('session.start', { source: { kind: 'file', path: '/etc/passwd' } })).rejects.toThrow(
      /outside the folders this server may read/,
    )
    const s = await service.call('session.start', { source: { kind: 'file', speed: 0 } })
    // @ts-expect-error a site that does not exist
    await expect(service.call('site.start', { session: s.id, site: 'XX' })).rejects.toThrow(/not one of AV, PV, TV, MV/)
    await expect(service.call('session.get', { session: '../../etc' })).rejects.toThrow(/not a session id/)
  })
})
