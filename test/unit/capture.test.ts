import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Events, SessionInfo } from '../../src/core/api/app'
import { CLASSES } from '../../src/core/api/classes'
import { classifyFeatures } from '../../src/core/analysis/classify'
import { fromLogProbs } from '../../src/core/analysis/aggregate'
import { recordingFeatures } from '../../src/core/analysis/recording'
import { audioInfo, openAudio } from '../../src/core/audio/decode'
import { resampleStream } from '../../src/core/audio/resample'
import { SessionService, type ModelRuntime } from '../../src/core/sessions/service'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { SessionStore } from '../../src/core/sessions/store'
import { phonoscope } from '../helpers/cli'
import { NullSink, PulseDaemon } from '../helpers/pulse'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'
import { collect } from '../helpers/audio'

/** The captured file brought to 4 kHz through the app's own resampler. */
async function at4k(path: string): Promise<Float64Array> {
  const audio = await openAudio(path)
  return collect(resampleStream(audio.chunks, audio.info.sampleRate, 4000))
}

/** Pearson correlation of a[i] with b[i + lag] for i in [start, end). */
function correlation(a: Float64Array, b: Float64Array, lag: number, start: number, end: number): number {
  let sa = 0,
    sb = 0,
    saa = 0,
    sbb = 0,
    sab = 0
  const n = end - start
  for (let i = start; i < end; i++) {
    const x = a[i]!
    const y = b[i + lag]!
    sa += x
    sb += y
    saa += x * x
    sbb += y * y
    sab += x * y
  }
  return (sab - (sa * sb) / n) / Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n))
}

/**
 * Correlation of each 1-second segment of the source with the capture, each at its best lag (searched around the
 * previous one): a capture under CPU load can lose a few milliseconds to an overrun, which shifts what follows.
 */
function segmentCorrelations(source: Float64Array, captured: Float64Array, maxLag: number): number[] {
  const rs: number[] = []
  let around: number | undefined
  for (let start = 0; start + 4000 <= source.length; start += 4000) {
    const lags = around === undefined ? [-maxLag, maxLag] : [around - 200, around + 200]
    let best = { r: -1, lag: 0 }
    for (let lag = lags[0]!; lag <= lags[1]!; lag++) {
      if (start + lag < 0 || start + 4000 + lag > captured.length) continue
      const r = correlation(source, captured, lag, start, start + 4000)
      if (r > best.r) best = { r, lag }
    }
    if (best.r > 0.9) around = best.lag
    rs.push(best.r)
  }
  return rs
}

const waitFor = <E extends keyof Events>(service: SessionService, event: E, test: (e: Events[E]) => boolean) =>
  new Promise<Events[E]>((resolve) => service.on(event, (e) => test(e) && resolve(e)))

/** Seconds of the sample played into the sink: enough for several verdicts and a full-window check, and quick. */
const EXCERPT_S = 12

describe('capture from a PulseAudio null sink through sox (the app’s stethoscope path)', () => {
  let runtime: ModelRuntime
  const sink = new NullSink(`steth_test_${process.pid}`)
  const sampleWav = join(mkdtempSync(join(tmpdir(), 'phonoscope-capture-')), 'sample.wav')
  let pulse: PulseDaemon | undefined
  // the daemon may take PulseDaemon's whole bounded wait on a busy machine, and then its error is the one to read
  beforeAll(async () => {
    pulse = await PulseDaemon.start()
    sink.load()
    execFileSync('sox', [SAMPLE_RECORDING, sampleWav, 'trim', '0', String(EXCERPT_S)]) // paplay reads WAV
    runtime = await inProcessRuntime(tinyModel())
  }, 60_000)
  afterAll(() => pulse?.stop()) // the sink goes with its daemon

  it('captures what is played (r >= 0.98 after alignment) and the verdicts equal an offline classify of the capture', async () => {
    const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-sessions-')))
    const service = new SessionService(store, runtime, { hopS: 2 })
    const verdicts: Events['verdict'][] = []
    service.on('verdict', (v) => verdicts.push(v))
    const session = await service.call('session.start', { source: { kind: 'device', device: sink.monitor } })
    const capturing = waitFor(service, 'level', () => true) // sox takes a moment to open the device
    await service.call('site.start', { session: session.id, site: 'MV' })
    await capturing
    const player = sink.play(sampleWav)
    await new Promise((resolve) => player.once('exit', resolve))
    await sleep(500)
    const info: SessionInfo = await service.call('site.stop', { session: session.id })

    const wav = store.sitePath(session.id, 'MV')
    const source = (await collect((await openAudio(SAMPLE_RECORDING)).chunks)).subarray(0, EXCERPT_S * 4000)
    const captured = await at4k(wav)
    const rs = segmentCorrelations(source, captured, 4000 * 3)
    const sorted = [...rs].sort((x, y) => x - y)
    expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThanOrEqual(0.98) // median
    expect(rs.filter((r) => r >= 0.98).length).toBeGreaterThanOrEqual(rs.length - 2) // an overrun spoils one segment

    // the site verdict is the offline classify of the captured file, and every live window is what the model says
    // of the same frames of that file's features
    const features = await recordingFeatures(wav, runtime.card.frontend)
    const offline = await classifyFeatures(features, runtime.card, runtime.inferer)
    const site = info.sites.find((s) => s.site === 'MV')!
    expect(site.probabilities).toEqual(offline.probabilities)
    expect(site.verdict).toBe(offline.verdict)
    expect(verdicts.length).toBeGreaterThanOrEqual(5)
    for (const v of verdicts) {
      const data = features.data.slice(v.first_frame * 64, (v.first_frame + v.frames) * 64)
      const out = await runtime.inferer.infer({ batch: 1, frames: v.frames, nMels: 64, data })
      const p = fromLogProbs(out.logProbs)
      CLASSES.forEach((c, i) => expect(v.probabilities[c]).toBeCloseTo(p[i]!, 5))
    }
  }, 60_000)

  it('lists the sink among the capture devices (`phonoscope devices`)', () => {
    const run = phonoscope('devices', '--json')
    expect(run.status, run.stderr).toBe(0)
    const ids = (JSON.parse(run.stdout) as { id: string }[]).map((d) => d.id)
    expect(ids).toContain('default')
    expect(ids).toContain(sink.monitor)
  })

  it('keeps the audio and tells the user when the device goes away, and goes on when it comes back', async () => {
    const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-sessions-')))
    const service = new SessionService(store, runtime)
    const session = await service.call('session.start', { source: { kind: 'device', device: sink.monitor } })
    const lost = waitFor(service, 'device', (d) => d.state === 'lost')
    const capturing = waitFor(service, 'level', () => true)
    await service.call('site.start', { session: session.id, site: 'AV' })
    await capturing
    const player = sink.play(sampleWav)
    await sleep(3000)
    sink.unload()
    player.kill()
    const lostEvent = await lost
    expect(lostEvent.message).toMatch(/recorded is kept/)
    const before = (await audioInfo(store.sitePath(session.id, 'AV'))).frames!
    expect(before / 44100).toBeGreaterThan(2)

    const restored = waitFor(service, 'device', (d) => d.state === 'restored')
    sink.load()
    await restored
    await sleep(1000)
    const info = await service.call('site.stop', { session: session.id })
    const site = info.sites.find((s) => s.site === 'AV')!
    expect(site.status).toBe('done')
    expect(site.duration_s).toBeGreaterThan(before / 44100) // the same site went on after the device came back
  }, 60_000)
})
