import { beforeAll, describe, expect, it } from 'vitest'
import type { WindowVerdict } from '../../src/core/api/app'
import { CLASSES } from '../../src/core/api/classes'
import { LiveAnalyzer } from '../../src/core/live/analyzer'
import { type ModelRuntime } from '../../src/core/sessions/service'
import { SAMPLE_RECORDING } from '../../src/core/live/sources'
import { samplesOf } from '../helpers/audio'
import { RATE } from '../helpers/heart-sounds'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'

/** Every window verdict of `signal` (4 kHz) pushed in 100 ms chunks, none dropped (each inference awaited). */
async function liveWindows(runtime: ModelRuntime, signal: ArrayLike<number>): Promise<WindowVerdict[]> {
  const verdicts: WindowVerdict[] = []
  const hopFrames = Math.round((3 * RATE) / runtime.card.frontend.hop_length)
  const events = { columns: () => undefined, verdict: (v: WindowVerdict) => verdicts.push(v) }
  const analyzer = new LiveAnalyzer('AV', runtime.card, runtime.inferer, hopFrames, events, runtime.provider)
  const chunk = RATE / 10
  for (let at = 0; at < signal.length; at += chunk) {
    analyzer.push(Float64Array.from(Array.prototype.slice.call(signal, at, at + chunk) as number[]))
    await analyzer.settle()
  }
  return verdicts
}

const seconds = (s: number) => Math.round(s * RATE)

describe('the live analyzer gates every window on its own sound', () => {
  let runtime: ModelRuntime
  beforeAll(async () => {
    runtime = await inProcessRuntime(tinyModel())
  })

  it('withholds every window of digital silence, with the reason and no heart rate', async () => {
    const windows = await liveWindows(runtime, new Float64Array(seconds(40)))
    expect(windows.length).toBeGreaterThan(5)
    for (const w of windows) {
      expect(w.verdict).toBeNull()
      expect(w.quality?.ok).toBe(false)
      expect(w.quality?.reasons).toContain('silence')
      expect(w.heart_rate_bpm).toBeNull()
    }
  })

  it('withholds every window of a steady tone', async () => {
    const tone = Float64Array.from({ length: seconds(40) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 150 * i) / RATE))
    const windows = await liveWindows(runtime, tone)
    expect(windows.length).toBeGreaterThan(5)
    for (const w of windows) {
      expect(w.verdict).toBeNull()
      expect(w.quality?.reasons.length).toBeGreaterThan(0)
      expect(w.quality?.reasons).not.toContain('silence')
    }
  })

  it('grades a real CirCor heart recording once enough of it is heard, with its heart rate', async () => {
    const windows = await liveWindows(runtime, await samplesOf(SAMPLE_RECORDING))
    // nothing is graded on less sound than the gate's minimum (4 s): the first window (3 s) is too short
    expect(windows[0]!.end_s).toBeLessThan(4)
    expect(windows[0]!.verdict).toBeNull()
    expect(windows[0]!.quality?.reasons).toContain('too_short')
    const graded = windows.filter((w) => w.verdict !== null)
    expect(graded.length).toBeGreaterThan(windows.length / 2)
    for (const w of graded) {
      expect(w.quality?.ok).toBe(true)
      expect(w.end_s - w.start_s).toBeGreaterThanOrEqual(4)
      const top = CLASSES.reduce((a, b) => (w.probabilities[b] > w.probabilities[a] ? b : a))
      expect(w.verdict).toBe(top)
      expect(w.heart_rate_bpm).toBeGreaterThan(40)
      expect(w.heart_rate_bpm).toBeLessThan(200)
      // S1/S2 onsets in the site's seconds, inside the window, about one S1 per beat
      const { s1, s2 } = w.heart_sounds!
      for (const t of [...s1, ...s2]) expect(t >= w.start_s && t <= w.end_s).toBe(true)
      const beats = ((w.end_s - w.start_s) * w.heart_rate_bpm!) / 60
      expect(s1.length).toBeGreaterThan(beats - 3)
      expect(s1.length).toBeLessThan(beats + 2)
    }
    // a withheld window shows no heart sounds
    for (const w of windows.filter((w) => w.verdict === null)) expect(w.heart_sounds).toBeUndefined()
  })
})
