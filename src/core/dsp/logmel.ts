import { PowerSpectrum } from './fft'
import { melFilterbank, type MelFilter } from './mel'
import type { Samples } from '../audio/types'
import { DEFAULT_FRONTEND, type FrontendParams } from './params'

/** Rows of log-Mel frames, packed row-major: frame f, Mel bin m is data[f * nMels + m]. */
export interface LogMelBlock {
  frames: number
  nMels: number
  data: Float32Array
}

/** The periodic (DFT-even) Hamming window: scipy.signal.get_window("hamming", n), which librosa uses. */
export function hammingPeriodic(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / n))
}

/**
 * Streaming log-Mel: push samples in chunks of any size and get the frames they complete, so a recording never needs
 * to be in memory in one piece and live capture gets columns as soon as they exist. The frames equal those of
 * training/phonoscope_training/frontend.py on the whole signal (no centre padding): log(melW @ |STFT|^2 + offset).
 */
export class LogMelStream {
  readonly params: FrontendParams
  private readonly window: Float64Array
  private readonly fft: PowerSpectrum
  private readonly filters: MelFilter[]
  private readonly frame: Float64Array
  private readonly power: Float64Array
  /** samples not yet consumed by a frame; the head of the next frame starts at index 0 */
  private pending: Float64Array
  private pendingLength = 0
  framesEmitted = 0

  constructor(params: FrontendParams = DEFAULT_FRONTEND) {
    this.params = params
    this.window = hammingPeriodic(params.win_length)
    this.fft = new PowerSpectrum(params.n_fft)
    this.filters = melFilterbank(params)
    this.frame = new Float64Array(params.n_fft)
    this.power = new Float64Array(this.fft.bins)
    this.pending = new Float64Array(params.n_fft * 16)
  }

  push(samples: Samples): LogMelBlock {
    const { n_fft, hop_length, n_mels } = this.params
    this.append(samples)
    const frames = this.pendingLength < n_fft ? 0 : 1 + Math.floor((this.pendingLength - n_fft) / hop_length)
    const data = new Float32Array(frames * n_mels)
    for (let f = 0; f < frames; f++) this.frameAt(f * hop_length, data.subarray(f * n_mels, (f + 1) * n_mels))
    const consumed = frames * hop_length
    this.pending.copyWithin(0, consumed, this.pendingLength)
    this.pendingLength -= consumed
    this.framesEmitted += frames
    return { frames, nMels: n_mels, data }
  }

  private append(samples: Samples): void {
    const needed = this.pendingLength + samples.length
    if (needed > this.pending.length) {
      const grown = new Float64Array(Math.max(needed, this.pending.length * 2))
      grown.set(this.pending.subarray(0, this.pendingLength))
      this.pending = grown
    }
    this.pending.set(samples, this.pendingLength)
    this.pendingLength = needed
  }

  private frameAt(start: number, out: Float32Array): void {
    const { frame, window, power, filters } = this
    const offset = this.params.log_offset
    for (let i = 0; i < frame.length; i++) frame[i] = this.pending[start + i]! * window[i]!
    this.fft.compute(frame, power)
    for (let m = 0; m < filters.length; m++) {
      const { first, weights } = filters[m]!
      let energy = 0
      for (let k = 0; k < weights.length; k++) energy += weights[k]! * power[first + k]!
      out[m] = Math.log(energy + offset)
    }
  }
}
