import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Events, SessionInfo } from '../../src/core/api/app'
import { computeFeatures } from '../../src/core/dsp/features'
import { melBinOfHz } from '../../src/core/dsp/mel'
import { DEFAULT_FRONTEND, type FrontendParams } from '../../src/core/dsp/params'
import { SessionService, type ModelRuntime } from '../../src/core/sessions/service'
import { SessionStore } from '../../src/core/sessions/store'
import { phonoscope } from '../helpers/cli'
import { OTHER_GEOMETRY, OTHER_HOP_S, writeTone } from '../helpers/geometry'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'

const dir = mkdtempSync(join(tmpdir(), 'phonoscope-geometry-'))
/** 20 s of a 700 Hz tone: 798 frames of the other geometry (1 + (80000 - 256) / 100), 3 windows of 400 */
const TONE = writeTone(join(dir, 'tone.wav'), { seconds: 20, hz: 700 })
const FRAMES = 798

/** The Mel bin a [frames][nMels] log-Mel matrix is loudest in, on average over its frames. */
function loudestBin(data: ArrayLike<number>, frames: number, nMels: number): number {
  const mean = Array.from({ length: nMels }, (_, m) => {
    let sum = 0
    for (let f = 0; f < frames; f++) sum += data[f * nMels + m]!
    return sum / frames
  })
  return mean.indexOf(Math.max(...mean))
}

describe('a model whose card says another geometry: 40 Mel bins over 0-1000 Hz, a 25 ms hop, 400-frame windows', () => {
  let model: string
  let runtime: ModelRuntime
  beforeAll(async () => {
    model = tinyModel(OTHER_GEOMETRY)
    runtime = await inProcessRuntime(model)
  }, 180_000)

  it('has that geometry in its card, and the Mel scale the views use places a tone in the bin the features put it', async () => {
    const { frontend, windowing } = runtime.card
    expect(frontend).toEqual({ ...DEFAULT_FRONTEND, ...OTHER_GEOMETRY.frontend })
    expect(windowing).toMatchObject(OTHER_GEOMETRY.windowing)
    for (const [params, bin] of [
      [DEFAULT_FRONTEND, 26],
      [frontend, 28],
    ] as [FrontendParams, number][]) {
      const features = await computeFeatures(TONE, params)
      expect(Math.round(melBinOfHz(700, params))).toBe(bin)
      expect(loudestBin(features.data, features.frames, features.nMels)).toBe(bin)
    }
  })

  it('classify (the CLI) computes 40-bin features at its hop and cuts them into its windows', () => {
    const run = phonoscope('classify', TONE, '--model', model, '--json')
    expect(run.status, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as {
      frames: number
      windows: { start_frame: number; end_frame: number; start_s: number; attention: { shape: number[] } }[]
    }
    expect(result.frames).toBe(FRAMES)
    expect(result.windows.map((w) => [w.start_frame, w.end_frame])).toEqual([
      [0, 400],
      [200, 600],
      [398, 798],
    ])
    expect(result.windows.map((w) => w.start_s)).toEqual([0, 5, 9.95]) // frames x 25 ms
    // 400 frames x 40 bins, halved by each of the CNN's 4 blocks
    expect(result.windows.every((w) => w.attention.shape.join() === '3,25,2')).toBe(true)
  })

  it('a live session streams 40-bin columns, judges 400-frame windows, and says its geometry (model.info, site.spectrogram)', async () => {
    const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-sessions-')))
    const service = new SessionService(store, runtime, { hopS: 2.5 })
    const columns: Events['columns'][] = []
    const verdicts: Events['verdict'][] = []
    service.on('columns', (c) => columns.push(c))
    service.on('verdict', (v) => verdicts.push(v))
    const info = await service.call('model.info', {})
    expect(info.card.frontend).toEqual(runtime.card.frontend)
    expect(info.card.windowing.window_frames).toBe(400)

    const session = await service.call('session.start', { source: { kind: 'file', path: TONE, speed: 0 } })
    const done = new Promise<SessionInfo>((resolve) =>
      service.on('session', (s) => {
        if (s.id === session.id && s.sites.find((r) => r.site === 'AV')?.status === 'done') resolve(s)
      }),
    )
    await service.call('site.start', { session: session.id, site: 'AV' })
    const finished = await done
    expect(columns.every((c) => c.n_mels === 40)).toBe(true)
    expect(columns.reduce((n, c) => n + c.frames, 0)).toBe(FRAMES)
    // a verdict every 100 frames (2.5 s at 25 ms), provisional until a whole 400-frame window exists
    expect(verdicts.length + finished.dropped_windows).toBe(Math.floor(FRAMES / 100))
    expect(verdicts.filter((v) => !v.provisional).every((v) => v.frames === 400)).toBe(true)
    expect(verdicts.every((v) => v.attention.freq === 2)).toBe(true)

    const spectrogram = await service.call('site.spectrogram', { session: session.id, site: 'AV' })
    expect([spectrogram.frames, spectrogram.n_mels, spectrogram.hop_s]).toEqual([FRAMES, 40, OTHER_HOP_S])
    expect(loudestBin(spectrogram.data, spectrogram.frames, spectrogram.n_mels)).toBe(28)
    await service.call('session.stop', { session: session.id })
  })
})
