import { PowerSpectrum } from '../dsp/fft'
import { hammingPeriodic } from '../dsp/logmel'
import { HEART_BAND_HZ } from './heart-rate'
import { heartRateOf, type Segmentation } from './segmentation'

/**
 * The signal-quality gate: whether a span of sound is a heart recording the model may grade. Each measure maps to
 * a score in [0, 1] by a ramp from its "bad" to its "good" value; the span's score is the lowest, and it passes when
 * every measure is at least half way (score >= 0.5). The thresholds were set on CirCor folds 0-3 so that good
 * recordings are almost never rejected (the share each rejects is in README.md); synthetic silence, white noise,
 * a tone, speech and clipping fall far on the bad side.
 */
export const QUALITY_REASONS = [
  'too_short',
  'silence',
  'clipping',
  'lost_contact',
  'noise',
  'speech',
  'no_heart_cycles',
] as const
export type QualityReason = (typeof QUALITY_REASONS)[number]

export interface Quality {
  score: number
  ok: boolean
  /** why it failed, worst first (empty when ok) */
  reasons: QualityReason[]
}

export interface QualityMeasures {
  duration_s: number
  /** RMS level, dB re full scale */
  rms_db: number
  /** share of samples that sit on the peak level with their predecessor (a clipped signal rests on its ceiling; a
   * sine or noise only passes through it) */
  clipped_share: number
  /** the longest stretch whose level falls 30 dB under the span's median level (the stethoscope lifted), s */
  dropout_s: number
  /** share of the 25-2000 Hz power that lies in the heart band 25-400 Hz */
  heart_band_share: number
  /** the largest share of the power in a single spectral bin (a tone) */
  tonality: number
  /** spectral flatness over 25-2000 Hz, 0-1 (white noise is near 1) */
  flatness: number
  /** the envelope's autocorrelation at the heart rate (0 when the segmentation found none) */
  periodicity: number
  /** complete heart cycles the segmentation found */
  cycles: number
}

/** [bad, good] of each measure; the pass mark is half way. */
const RAMPS = {
  silence: [-70, -50],
  /** a few S1 peaks on the ceiling (the app's sample recording: 0.3 %) still grade; a signal living there does not */
  clipping: [0.02, 0.002],
  lost_contact: [1, 0.3],
  /** white noise is flat (near 1), CirCor's heart sounds at most 0.62 */
  flatness: [0.9, 0.6],
  /** a tone holds most of the power in one bin, CirCor's heart sounds at most 0.36 */
  tonality: [0.6, 0.4],
  no_heart_cycles: [0.02, 0.12],
} as const
/** without heart cycles, a spectrum mostly above the heart band that is neither flat nor a tone is speech */
const SPEECH_HEART_SHARE = 0.5
const CLIP_MARGIN = 0.999
const PLATEAU = 1e-3
const SILENT_PEAK = 1e-4
const DROPOUT_DB = 30
const LEVEL_FRAME_S = 0.02
const SPECTRUM_FFT = 256
const PASS = 0.5
/**
 * Shortest span the gate grades: the heart rate needs three S1 onsets, two cycles even at 30 bpm fit in 4 s, and
 * CirCor's shortest recording is 5.2 s. Never shorter than the card's min_frames (the model's own minimum).
 */
export const MIN_SECONDS = 4

const ramp = (value: number, [bad, good]: readonly [number, number]) =>
  Math.min(1, Math.max(0, (value - bad) / (good - bad)))

export function measureQuality(
  signal: ArrayLike<number>,
  rate: number,
  segmentation: Segmentation | null,
): QualityMeasures {
  const n = signal.length
  let mean = 0
  for (let i = 0; i < n; i++) mean += signal[i]!
  mean /= Math.max(n, 1)
  let power = 0
  let peak = 0
  for (let i = 0; i < n; i++) {
    power += (signal[i]! - mean) ** 2
    peak = Math.max(peak, Math.abs(signal[i]!))
  }
  let clipped = 0
  const ceiling = CLIP_MARGIN * peak
  if (peak > SILENT_PEAK) {
    for (let i = 1; i < n; i++) {
      const a = signal[i - 1]!
      const b = signal[i]!
      if (Math.abs(a) >= ceiling && Math.abs(b) >= ceiling && a * b > 0 && Math.abs(a - b) < PLATEAU * peak) clipped++
    }
  }
  const cycles = segmentation ? (heartRateOf(segmentation)?.cycles ?? 0) : 0
  return {
    duration_s: n / rate,
    rms_db: 10 * Math.log10(power / Math.max(n, 1) + 1e-20),
    clipped_share: clipped / Math.max(n, 1),
    dropout_s: longestDropout(signal, rate),
    ...spectralShape(signal, rate),
    periodicity: segmentation && cycles > 0 ? segmentation.periodicity : 0,
    cycles,
  }
}

function longestDropout(signal: ArrayLike<number>, rate: number): number {
  const step = Math.round(LEVEL_FRAME_S * rate)
  const levels: number[] = []
  for (let start = 0; start + step <= signal.length; start += step) {
    let s = 0
    for (let i = start; i < start + step; i++) s += signal[i]! ** 2
    levels.push(10 * Math.log10(s / step + 1e-20))
  }
  const median = [...levels].sort((a, b) => a - b)[Math.floor(levels.length / 2)] ?? 0
  let longest = 0
  let run = 0
  for (const level of levels) {
    run = level < median - DROPOUT_DB ? run + 1 : 0
    longest = Math.max(longest, run)
  }
  return longest * LEVEL_FRAME_S
}

/** Welch's averaged power spectrum (Hamming frames, half overlap) and its shape over 25 Hz - Nyquist. */
function spectralShape(signal: ArrayLike<number>, rate: number) {
  const spectrum = new PowerSpectrum(SPECTRUM_FFT)
  const window = hammingPeriodic(SPECTRUM_FFT)
  const frame = new Float64Array(SPECTRUM_FFT)
  const bins = new Float64Array(spectrum.bins)
  const sum = new Float64Array(spectrum.bins)
  for (let start = 0; start + SPECTRUM_FFT <= signal.length; start += SPECTRUM_FFT / 2) {
    for (let i = 0; i < SPECTRUM_FFT; i++) frame[i] = signal[start + i]! * window[i]!
    spectrum.compute(frame, bins)
    for (let k = 0; k < bins.length; k++) sum[k]! += bins[k]!
  }
  const hz = (k: number) => (k * rate) / SPECTRUM_FFT
  let total = 0
  let heart = 0
  let top = 0
  let logSum = 0
  let count = 0
  for (let k = 1; k < sum.length; k++) {
    if (hz(k) < HEART_BAND_HZ[0]) continue
    total += sum[k]!
    if (hz(k) <= HEART_BAND_HZ[1]) heart += sum[k]!
    top = Math.max(top, sum[k]!)
    logSum += Math.log(sum[k]! + 1e-30)
    count++
  }
  if (total <= 0) return { heart_band_share: 0, tonality: 0, flatness: 0 }
  return {
    heart_band_share: heart / total,
    tonality: top / total,
    flatness: Math.exp(logSum / count) / (total / count),
  }
}

/** The gate's verdict on measures: a span shorter than `minSeconds` is too short whatever it holds. */
export function judgeQuality(m: QualityMeasures, minSeconds = MIN_SECONDS): Quality {
  const noise = Math.min(ramp(m.flatness, RAMPS.flatness), ramp(m.tonality, RAMPS.tonality))
  const cycles = m.cycles >= 2 ? ramp(m.periodicity, RAMPS.no_heart_cycles) : 0
  const speechLike = noise >= PASS && m.heart_band_share < SPEECH_HEART_SHARE
  const scores: [QualityReason, number][] = [
    ['too_short', m.duration_s >= minSeconds ? 1 : 0],
    ['silence', ramp(m.rms_db, RAMPS.silence)],
    ['clipping', ramp(m.clipped_share, RAMPS.clipping)],
    ['lost_contact', ramp(m.dropout_s, RAMPS.lost_contact)],
    ['noise', noise],
    ['speech', speechLike ? cycles : 1],
    ['no_heart_cycles', cycles],
  ]
  const failing = scores.filter(([, s]) => s < PASS).sort((a, b) => a[1] - b[1])
  // a silent span has no spectrum or cycles to speak of: silence (and its length) is the whole story
  const silent = failing.some(([r]) => r === 'silence')
  const reasons = failing.map(([r]) => r).filter((r) => !silent || r === 'silence' || r === 'too_short')
  const score = Math.min(...scores.map(([, s]) => s))
  return { score: Number(score.toFixed(3)), ok: score >= PASS, reasons }
}

/** Measure and judge a span: its segmentation, when given, is the one its own samples produced. */
export const assessQuality = (
  signal: ArrayLike<number>,
  rate: number,
  segmentation: Segmentation | null,
  minSeconds = MIN_SECONDS,
): Quality => judgeQuality(measureQuality(signal, rate, segmentation), minSeconds)

/** The one place a verdict (or a heart rate) is withheld: none for a span the gate rejects. */
export const gated = <V>(quality: Quality, value: () => V): V | null => (quality.ok ? value() : null)

/** "insufficient quality: silence, re-record": what the CLI, the UI and the report say instead of a verdict. */
export const withheldText = (quality: { reasons: readonly string[] }): string =>
  `insufficient quality: ${quality.reasons.map((r) => r.replace(/_/g, ' ')).join(', ')}, re-record`
