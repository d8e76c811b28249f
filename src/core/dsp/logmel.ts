import { PowerSpectrum } from './fft'
import { melFilterbank } from './mel'
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

interface FrontendTables {
  window: Float64Array
  melFirst: Int32Array
  melOffset: Int32Array
  melWeights: Float64Array
}

/** Window and flattened filterbank, built once per parameter set (they are read-only). */
const tableCache = new Map<string, FrontendTables>()

function tablesFor(params: FrontendParams): FrontendTables {
  const key = JSON.stringify(params)
  let tables = tableCache.get(key)
  if (!tables) {
    const filters = melFilterbank(params)
    const melOffset = new Int32Array(filters.length + 1)
    filters.forEach((f, m) => (melOffset[m + 1] = melOffset[m]! + f.weights.length))
    const melWeights = new Float64Array(melOffset[filters.length]!)
    filters.forEach((f, m) => melWeights.set(f.weights, melOffset[m]))
    const melFirst = Int32Array.from(filters, (f) => f.first)
    tables = { window: hammingPeriodic(params.win_length), melFirst, melOffset, melWeights }
    tableCache.set(key, tables)
  }
  return tables
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
  /** the sparse filterbank flattened: filter m weighs bins melFirst[m].. with melWeights[melOffset[m]..melOffset[m+1]) */
  private readonly melFirst: Int32Array
  private readonly melOffset: Int32Array
  private readonly melWeights: Float64Array
  private readonly frame: Float64Array
  private readonly power: Float64Array
  /** samples not yet consumed by a frame; the head of the next frame starts at index 0 */
  private pending: Float64Array
  private pendingLength = 0
  framesEmitted = 0

  constructor(params: FrontendParams = DEFAULT_FRONTEND) {
    this.params = params
    const tables = tablesFor(params)
    this.window = tables.window
    this.melFirst = tables.melFirst
    this.melOffset = tables.melOffset
    this.melWeights = tables.melWeights
    this.fft = new PowerSpectrum(params.n_fft)
    this.frame = new Float64Array(params.n_fft)
    this.power = new Float64Array(this.fft.bins)
    this.pending = new Float64Array(params.n_fft * 16)
  }

  push(samples: Samples): LogMelBlock {
    const { n_fft, hop_length, n_mels } = this.params
    this.append(samples)
    const frames = this.pendingLength < n_fft ? 0 : 1 + Math.floor((this.pendingLength - n_fft) / hop_length)
    const data = new Float32Array(frames * n_mels)
    for (let f = 0; f < frames; f++) this.frameAt(f * hop_length, data, f * n_mels)
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

  private frameAt(start: number, out: Float32Array, at: number): void {
    const { frame, window, power, pending, melFirst, melOffset, melWeights } = this
    const offset = this.params.log_offset
    for (let i = 0; i < frame.length; i++) frame[i] = pending[start + i]! * window[i]!
    this.fft.compute(frame, power)
    for (let m = 0; m < melFirst.length; m++) {
      let energy = 0
      for (let w = melOffset[m]!, k = melFirst[m]!; w < melOffset[m + 1]!; w++, k++)
        energy += melWeights[w]! * power[k]!
      out[at + m] = Math.log(energy + offset)
    }
  }
}

/** Blocks of consecutive frames joined into one matrix. */
export function joinBlocks(blocks: Float32Array[], frames: number, nMels: number): LogMelBlock {
  const data = new Float32Array(frames * nMels)
  let at = 0
  for (const block of blocks) {
    data.set(block, at)
    at += block.length
  }
  return { frames, nMels, data }
}
