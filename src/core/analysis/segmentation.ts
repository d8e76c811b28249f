import { HEART_STATES, type HeartState } from './annotation'
import {
  estimateRate,
  FEATURE_COUNT,
  FEATURE_RATE,
  heartSoundFeatures,
  periodicityAt,
  ratePeaks,
  RATE_RANGE_BPM,
  type HeartSoundFeatures,
} from './heart-rate'
import MODEL from './segmentation-model.json'

/**
 * Heart-cycle segmentation (S1, systole, S2, diastole) by a duration-constrained hidden semi-Markov model, the
 * method of Springer et al. (2016), which reports F1 ~0.96 for S1/S2 on PhysioNet 2016 and is the usual reference
 * against which learned segmenters (e.g. Renna et al. 2019's CNN, 0.94-0.96) are compared:
 *  - features at 50 Hz (heart-rate.ts): homomorphic envelope, Hilbert envelope, 40-60 Hz power;
 *  - emissions: one Gaussian per state over those features (Springer uses logistic regression; a Gaussian per state
 *    is its generative twin and fits in closed form), fitted on CirCor folds 0-3 (scripts/fit-segmentation.ts);
 *  - durations: Gaussian per state, S1 and S2 fixed, systole and diastole a line in the cycle length set by the
 *    autocorrelation heart rate, so systole is shorter than diastole except at the fastest rates, as annotated;
 *  - decoding: the explicit-duration Viterbi over the cycle S1 -> systole -> S2 -> diastole -> S1, the first and
 *    last segments allowed to be cut by the recording's edges.
 * The model runs in TypeScript in milliseconds per 30 s window, live and offline alike, and needs no second network.
 */

export interface HeartSegment {
  state: HeartState
  start_s: number
  end_s: number
}

export interface Segmentation {
  segments: HeartSegment[]
  /** onsets of the S1 and S2 that start inside the span (a sound cut by the span's edge has no onset) */
  s1_onsets: number[]
  s2_onsets: number[]
  /** from the autocorrelation: the rate the durations were set by, and how periodic the envelope is (0-1) */
  prior_bpm: number
  periodicity: number
}

export interface HeartRate {
  /** 60 / the mean of the typical S1-to-S1 intervals (heartRateOf) */
  bpm: number
  /** standard deviation of the S1-to-S1 intervals (SDNN of the heart sounds), ms */
  variability_ms: number
  /** complete cycles counted */
  cycles: number
}

interface Duration {
  mean: number
  sd: number
}

/** Each state's duration in seconds at a cycle length, as fitted (widening the sd for heart-rate variability within
 * a span was tried: 10 % of the cycle cost 0.02 of F1 on folds 0-3, so the fitted sd stands alone). */
function stateDurations(cycle: number): Duration[] {
  const d = MODEL.durations
  const linear = (l: { intercept: number; slope: number; sd: number }) => ({
    mean: Math.max(l.intercept + l.slope * cycle, 1 / FEATURE_RATE),
    sd: l.sd,
  })
  return [d.S1, linear(d.systole), d.S2, linear(d.diastole)]
}

/** log N(x; mean, covariance) per state, precomputed as a Cholesky-free inverse of the 3 x 3 covariances (row-major). */
const EMISSIONS = MODEL.emissions.map(({ mean, covariance }) => ({
  mean: Float64Array.from(mean),
  inv: Float64Array.from(invert3(covariance).flat()),
  logNorm: -0.5 * (FEATURE_COUNT * Math.log(2 * Math.PI) + Math.log(det3(covariance))),
}))

function det3(m: number[][]): number {
  const [a, b, c] = m as [number[], number[], number[]]
  return (
    a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) -
    a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) +
    a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!)
  )
}

function invert3(m: number[][]): number[][] {
  const d = det3(m)
  const at = (r: number, c: number) => m[r]![c]!
  const cof = (r: number, c: number) => {
    const rs = [0, 1, 2].filter((i) => i !== r)
    const cs = [0, 1, 2].filter((i) => i !== c)
    const minor = at(rs[0]!, cs[0]!) * at(rs[1]!, cs[1]!) - at(rs[0]!, cs[1]!) * at(rs[1]!, cs[0]!)
    return ((r + c) % 2 ? -1 : 1) * minor
  }
  // inverse = adjugate / det = transpose of the cofactors / det
  return [0, 1, 2].map((r) => [0, 1, 2].map((c) => cof(c, r) / d))
}

/**
 * Per state, the running sum of its frames' log emissions: cum[j][t] sums frames [0, t). They do not depend on the
 * durations, so every candidate rate decodes with the same sums.
 */
function cumulativeEmissions(features: HeartSoundFeatures): Float64Array[] {
  const { frames, data } = features
  return EMISSIONS.map(({ mean, inv, logNorm }) => {
    const cum = new Float64Array(frames + 1)
    for (let t = 0; t < frames; t++) {
      const offset = t * FEATURE_COUNT
      let q = 0
      for (let a = 0; a < FEATURE_COUNT; a++) {
        for (let b = 0; b < FEATURE_COUNT; b++) {
          q += (data[offset + a]! - mean[a]!) * inv[a * FEATURE_COUNT + b]! * (data[offset + b]! - mean[b]!)
        }
      }
      cum[t + 1] = cum[t]! + (logNorm - 0.5 * q)
    }
    return cum
  })
}

/** Segments a signal at `rate` Hz; null when it holds no heart rate the autocorrelation can find. */
export function segmentHeartCycles(signal: ArrayLike<number>, rate: number): Segmentation | null {
  return segmentFeatures(heartSoundFeatures(signal, rate))
}

export function segmentFeatures(features: HeartSoundFeatures): Segmentation | null {
  const found = ratePeaks(features.envelope)
  const prior = estimateRate(features.envelope, found)
  if (!found || !prior) return null
  const cum = cumulativeEmissions(features)
  let best = { score: -Infinity, bpm: prior.bpm, path: [] as DecodedSegment[] }
  for (const bpm of rateCandidates(prior.bpm, found.peaks)) {
    const decoded = decode(cum, features.frames, stateDurations(60 / bpm))
    if (decoded.score > best.score) best = { ...decoded, bpm }
  }
  const segments: HeartSegment[] = best.path.map(({ state, start, end }) => ({
    state: HEART_STATES[state]!,
    start_s: start / FEATURE_RATE,
    end_s: end / FEATURE_RATE,
  }))
  const onsets = (state: HeartState) => segments.filter((s, i) => s.state === state && i > 0).map((s) => s.start_s)
  return {
    segments,
    s1_onsets: onsets('S1'),
    s2_onsets: onsets('S2'),
    prior_bpm: best.bpm,
    periodicity: periodicityAt(found.r, best.bpm),
  }
}

/** The rates the model is decoded under: the autocorrelation's pick, its half and double, and the next-highest peaks. */
function rateCandidates(prior: number, peaks: { bpm: number }[]): number[] {
  const [lo, hi] = RATE_RANGE_BPM
  const all = [prior, prior / 2, prior * 2, ...peaks.slice(0, CANDIDATE_PEAKS).map((p) => p.bpm)]
  const distinct: number[] = []
  for (const bpm of all) {
    if (bpm >= lo && bpm <= hi && distinct.every((b) => Math.abs(b / bpm - 1) > 0.05)) distinct.push(bpm)
  }
  return distinct
}
/** the highest autocorrelation peaks decoded besides the pick (0, 1, 3, 5, all tried on folds 0-3: rate MAE 2.95, 2.80, 2.25, 2.06, 2.04 bpm) */
const CANDIDATE_PEAKS = 5

interface DecodedSegment {
  state: number
  start: number
  end: number
}

/**
 * Explicit-duration Viterbi. best[j][t]: the best log score of frames [0, t) whose last segment is state j ending at
 * t; a segment of state j and d frames scores log p_j(d) + the sum of its frames' log emissions and follows state
 * j - 1 (cyclically). The first segment may start before frame 0 and the last end after the span (no duration term).
 */
function decode(cum: Float64Array[], T: number, durations: Duration[]): { score: number; path: DecodedSegment[] } {
  const S = HEART_STATES.length
  const ranges = durations.map(({ mean, sd }) => {
    const min = Math.max(1, Math.floor((mean - 3 * sd) * FEATURE_RATE))
    const max = Math.max(min, Math.ceil((mean + 3 * sd) * FEATURE_RATE))
    // a distribution over the whole frames min..max, so that scores under different cycle lengths compare
    const logP = Float64Array.from({ length: max + 1 }, (_, d) => -0.5 * ((d / FEATURE_RATE - mean) / sd) ** 2)
    let total = 0
    for (let d = min; d <= max; d++) total += Math.exp(logP[d]!)
    for (let d = min; d <= max; d++) logP[d] = logP[d]! - Math.log(total)
    return { min, max, logP }
  })
  const best = Array.from({ length: S }, () => new Float64Array(T + 1).fill(-Infinity))
  const length = Array.from({ length: S }, () => new Int32Array(T + 1))
  for (let t = 1; t <= T; t++) {
    for (let j = 0; j < S; j++) {
      const { min, max, logP } = ranges[j]!
      const prev = best[(j + S - 1) % S]!
      const sums = cum[j]!
      const sumToT = sums[t]!
      let top = -Infinity
      let arg = 0
      if (t <= max) {
        // a first segment cut by the start of the span
        top = sumToT
        arg = t
      }
      for (let d = min; d <= max && d < t; d++) {
        const v = prev[t - d]! + logP[d]! + sumToT - sums[t - d]!
        if (v > top) {
          top = v
          arg = d
        }
      }
      best[j]![t] = top
      length[j]![t] = arg
    }
  }
  // the last segment may be cut by the end of the span: any length up to its maximum, no duration term
  let end = { score: -Infinity, state: 0, d: T }
  for (let j = 0; j < S; j++) {
    const prev = best[(j + S - 1) % S]!
    for (let d = 1; d <= ranges[j]!.max && d <= T; d++) {
      const v = (d === T ? 0 : prev[T - d]!) + cum[j]![T]! - cum[j]![T - d]!
      if (v > end.score) end = { score: v, state: j, d }
    }
  }
  const path: DecodedSegment[] = []
  let state = end.state
  let t = T
  let d = end.d
  for (;;) {
    path.push({ state, start: t - d, end: t })
    t -= d
    if (t <= 0) break
    state = (state + S - 1) % S
    d = length[state]![t]!
  }
  return { score: end.score, path: path.reverse() }
}

/**
 * The heart rate of a span's segmentation from its S1-to-S1 intervals: 60 / the mean of those within 20 % of their
 * median, so that a beat inserted or missed in a noisy stretch moves it little (the median alone would be quantised
 * to the 20 ms frames: 4 bpm at 110 bpm); null with fewer than two cycles.
 */
export function heartRateOf(segmentation: Segmentation, from_s = -Infinity, to_s = Infinity): HeartRate | null {
  const onsets = segmentation.s1_onsets.filter((t) => t >= from_s && t < to_s)
  if (onsets.length < 3) return null
  const intervals = onsets.slice(1).map((t, i) => t - onsets[i]!)
  const sorted = [...intervals].sort((a, b) => a - b)
  const half = sorted.length >> 1
  const median = sorted.length % 2 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2
  const typical = intervals.filter((v) => Math.abs(v - median) <= TYPICAL_SHARE * median)
  const meanOf = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length
  const mean = meanOf(intervals)
  const sd = Math.sqrt(meanOf(intervals.map((v) => (v - mean) ** 2)))
  return { bpm: 60 / meanOf(typical), variability_ms: 1000 * sd, cycles: intervals.length }
}
const TYPICAL_SHARE = 0.2
