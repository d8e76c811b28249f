import type { FrontendParams } from '../api/model-card'

// Slaney's auditory Mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
const F_SP = 200 / 3
const MIN_LOG_HZ = 1000
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP
const LOG_STEP = Math.log(6.4) / 27

export const hzToMel = (hz: number): number =>
  hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP

export const melToHz = (mel: number): number =>
  mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel

/** What places the Mel bins on the frequency axis: their count and the band they split. */
export type MelBand = Pick<FrontendParams, 'n_mels' | 'fmin' | 'fmax'>

/** The n_mels + 2 filter edges in Hz, evenly spaced in Mel over fmin..fmax: bin m rises, peaks and falls over m..m+2. */
function melEdges(band: MelBand): number[] {
  const lo = hzToMel(band.fmin)
  const hi = hzToMel(band.fmax)
  return Array.from({ length: band.n_mels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (band.n_mels + 1)))
}

/**
 * Where a frequency sits among the bins: 0 at the lowest bin's centre, n_mels - 1 at the highest's, fractional
 * between (what a frequency axis beside a log-Mel image needs; platform-free, the renderer uses it).
 */
export function melBinOfHz(hz: number, band: MelBand): number {
  const lo = hzToMel(band.fmin)
  const step = (hzToMel(band.fmax) - lo) / (band.n_mels + 1)
  return (hzToMel(hz) - lo) / step - 1
}

/** One triangular filter, stored sparsely: weights for FFT bins first..first+weights.length-1. */
export interface MelFilter {
  first: number
  weights: Float64Array
}

/**
 * The Mel filterbank of librosa.filters.mel(norm="slaney"): triangles between adjacent Mel-spaced edges, each
 * scaled by 2 / (bandwidth in Hz) so that every filter has the same area.
 */
export function melFilterbank(p: FrontendParams): MelFilter[] {
  const bins = p.n_fft / 2 + 1
  const fftHz = Array.from({ length: bins }, (_, k) => (k * p.sample_rate) / p.n_fft)
  const edges = melEdges(p)
  return Array.from({ length: p.n_mels }, (_, m) => {
    const [left, centre, right] = [edges[m]!, edges[m + 1]!, edges[m + 2]!]
    const norm = 2 / (right - left)
    const dense = fftHz.map(
      (f) => Math.max(0, Math.min((f - left) / (centre - left), (right - f) / (right - centre))) * norm,
    )
    const first = dense.findIndex((w) => w > 0)
    const last = dense.findLastIndex((w) => w > 0)
    return first < 0
      ? { first: 0, weights: new Float64Array(0) }
      : { first, weights: Float64Array.from(dense.slice(first, last + 1)) }
  })
}
