import { describe, expect, it } from 'vitest'
import { coverageWeightedAttention, type PlacedAttention } from '../../src/core/analysis/attention'
import { attentionByPhase, murmurTiming } from '../../src/core/analysis/attention-phase'
import { classifyFeatures, type Inferer } from '../../src/core/analysis/classify'
import type { Segmentation } from '../../src/core/analysis/segmentation'
import { loadModelCard, defaultModelPath } from '../../src/core/model/card'
import { featuresOf, gaussianNoise, RATE, syntheticPcg } from '../helpers/heart-sounds'

const card = loadModelCard(defaultModelPath())

/** A map of `time` x 1 cells summing to 1, with all of it on cell `peak` (or spread evenly when undefined). */
const window = (first_frame: number, frames: number, time: number, peak?: number): PlacedAttention => ({
  first_frame,
  frames,
  time,
  freq: 1,
  data: Array.from({ length: time }, (_, t) => (peak === undefined ? 1 / time : t === peak ? 1 : 0)),
})

describe('whole-recording attention, weighted by coverage', () => {
  it('a short early window spreading its attention evenly does not outshine a long one', () => {
    // the live path's first provisional window (2 s) and a full window (30 s) over the same start, both even
    const grid = coverageWeightedAttention([window(0, 64, 4), window(0, 936, 58)], 936)!
    expect(grid.data[10]).toBeCloseTo(1, 5)
    expect(grid.data[500]).toBeCloseTo(1, 5)
  })

  it("the long window's peak, not the short window's even spread, is where the recording's attention is", () => {
    const grid = coverageWeightedAttention([window(0, 64, 4), window(0, 936, 58, 40)], 936)!
    const max = grid.data.indexOf(Math.max(...grid.data))
    expect(Math.floor(max / 16)).toBe(40)
  })

  it('a frame no window covers has no attention; a wrap-padded window folds its copies back', () => {
    const padded = { ...window(0, 20, 4), input_frames: 64 }
    const grid = coverageWeightedAttention([padded], 30)!
    expect(Array.from(grid.data.subarray(0, 20)).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true)
    expect(Array.from(grid.data.subarray(20)).every((v) => v === 0)).toBe(true)
  })
})

/** One cycle a second: S1 0-0.1, systole 0.1-0.4, S2 0.4-0.5, diastole 0.5-1.0, four cycles. */
const segmentation: Segmentation = {
  segments: [0, 1, 2, 3].flatMap((c) => [
    { state: 'S1' as const, start_s: c, end_s: c + 0.1 },
    { state: 'systole' as const, start_s: c + 0.1, end_s: c + 0.4 },
    { state: 'S2' as const, start_s: c + 0.4, end_s: c + 0.5 },
    { state: 'diastole' as const, start_s: c + 0.5, end_s: c + 1 },
  ]),
  s1_onsets: [0, 1, 2, 3],
  s2_onsets: [0.4, 1.4, 2.4, 3.4],
  prior_bpm: 60,
  periodicity: 1,
}
/** 400 frames of 10 ms, each at its centre */
const centre = (f: number) => (f + 0.5) / 100
const framesWith = (attention: (t: number) => number) => ({
  time: 400,
  freq: 2,
  data: Float32Array.from({ length: 800 }, (_, i) => attention(centre(Math.floor(i / 2)))),
  first_frame: 0 as const,
  frames: 400,
})

describe('attention by heart phase', () => {
  it('shares of the attention in S1, systole, S2 and diastole', () => {
    const phases = attentionByPhase(
      framesWith((t) => (t % 1 < 0.1 ? 1 : t % 1 >= 0.1 && t % 1 < 0.4 ? 3 : 0)),
      segmentation,
      centre,
    )!
    expect(phases.attention.s1).toBeCloseTo(0.1, 6)
    expect(phases.attention.systole).toBeCloseTo(0.9, 6)
    expect(phases.attention.s2).toBe(0)
    expect(phases.attention.diastole).toBe(0)
    expect(phases.time).toMatchObject({ s1: 0.1, systole: 0.3, s2: 0.1, diastole: 0.5 })
    expect(murmurTiming(phases)).toBe('systolic')
  })

  it('attention in diastole says diastolic; spread evenly says nothing', () => {
    const late = attentionByPhase(
      framesWith((t) => (t % 1 >= 0.6 ? 1 : 0.1)),
      segmentation,
      centre,
    )!
    expect(murmurTiming(late)).toBe('diastolic')
    const even = attentionByPhase(
      framesWith(() => 1),
      segmentation,
      centre,
    )!
    expect(even.attention.diastole).toBeCloseTo(0.5, 6)
    expect(murmurTiming(even)).toBeNull()
  })
})

describe("the recording's verdict names its windows", () => {
  /** "mild" 80 %, attention on the first time cell */
  const mild: Inferer = {
    infer: async ({ frames }) => {
      const time = Math.floor(frames / 16)
      const attention = new Float32Array(3 * time * 4)
      for (let c = 0; c < 3; c++) attention[c * time * 4] = 1
      return {
        logProbs: Float32Array.from([0.1, 0.8, 0.1], Math.log),
        attention,
        attentionShape: [1, 3, time, 4],
        ms: 0,
      }
    },
  }

  it('verdict_windows lists exactly the windows the quality gate passed', async () => {
    // 90 s of heart sounds, the last 30 s under noise: the windows there are withheld, the recording passes
    const signal = syntheticPcg(90, 90).signal
    gaussianNoise(30 * RATE, 0.1).forEach((v, i) => (signal[60 * RATE + i]! += v))
    const result = await classifyFeatures(featuresOf(signal, 'noisy-end.wav'), card, mild)
    const passed = result.windows.filter((w) => w.verdict !== null).map((w) => w.index)
    expect(passed.length).toBeGreaterThan(0)
    expect(passed.length).toBeLessThan(result.windows.length)
    expect(result.verdict).toBe('mild')
    expect(result.verdict_windows).toEqual(passed)
    expect(result.attention_phase).not.toBeNull()
  })
})
