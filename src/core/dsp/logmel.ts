import { LogBatch } from './fast-log'
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
 * The Mel filterbank by FFT bin rather than by filter: bin k adds lowerWeight[k] of its power to filter lower[k] and
 * upperWeight[k] to filter lower[k] + 1. Triangles between increasing edges overlap only their neighbours, so no bin
 * lies under more than two, and one pass over the bins replaces a short loop per filter (most span 3-4 bins). Each
 * filter still sums its bins in ascending order, so the energies are those of the filter-by-filter product.
 * lower[] never decreases over the bins, so filter m is complete once the pass has added the bins whose lower filter is
 * m or below, [firstBin, filterEnd[m]), and the pass keeps the two energies it adds to in locals.
 */
interface BinMajorMel {
  /** the first bin any filter weighs */
  firstBin: number
  /** per filter, the bin after the last whose lower filter is this one or below */
  filterEnd: Int32Array
  lowerWeight: Float64Array
  upperWeight: Float64Array
}

function binMajor(filters: MelFilter[], bins: number): BinMajorMel {
  const spare = filters.length
  const lower = new Int32Array(bins).fill(spare)
  const lowerWeight = new Float64Array(bins)
  const upperWeight = new Float64Array(bins)
  let [firstBin, endBin] = [bins, 0]
  filters.forEach(({ first, weights }, m) => {
    weights.forEach((weight, j) => {
      const k = first + j
      if (lower[k] === spare) [lower[k], lowerWeight[k]] = [m, weight]
      else if (lower[k] === m - 1) upperWeight[k] = weight
      else throw new Error(`FFT bin ${k} lies under more than two Mel filters`)
      firstBin = Math.min(firstBin, k)
      endBin = Math.max(endBin, k + 1)
    })
  })
  const filterEnd = new Int32Array(spare)
  for (let k = firstBin; k < endBin; k++) filterEnd.fill(k + 1, lower[k]!)
  // no bin under any filter: an empty range
  return { firstBin: Math.min(firstBin, endBin), filterEnd, lowerWeight, upperWeight }
}

interface FrontendTables {
  window: Float64Array
  mel: BinMajorMel
}

/** Window and filterbank, built once per parameter set (they are read-only). */
const tableCache = new Map<string, FrontendTables>()

function tablesFor(params: FrontendParams): FrontendTables {
  const key = JSON.stringify(params)
  let tables = tableCache.get(key)
  if (!tables) {
    const mel = binMajor(melFilterbank(params), params.n_fft / 2 + 1)
    tables = { window: hammingPeriodic(params.win_length), mel }
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
  private readonly mel: BinMajorMel
  private readonly power: Float64Array
  /** the frame's Mel energies plus the log offset, logged together */
  private readonly energies: LogBatch
  /**
   * samples not yet consumed by a frame (under n_fft; the head of the next frame starts at index 0), and during a push
   * the chunk's first n_fft samples after them
   */
  private pending: Float64Array
  private pendingLength = 0
  framesEmitted = 0

  constructor(params: FrontendParams = DEFAULT_FRONTEND) {
    this.params = params
    const tables = tablesFor(params)
    this.window = tables.window
    this.mel = tables.mel
    this.fft = new PowerSpectrum(params.n_fft)
    this.power = new Float64Array(this.fft.bins)
    this.energies = new LogBatch(params.n_mels)
    this.pending = new Float64Array(2 * params.n_fft)
  }

  /**
   * The frames the samples complete. Frames that start in the samples kept from before read them joined with the
   * chunk's first n_fft samples; the others read the chunk where it is (copying every chunk into one buffer cost the
   * copy and, per file, a buffer the size of a chunk). What no frame consumed, under n_fft samples, is kept.
   */
  push(samples: Samples): LogMelBlock {
    const { n_fft, hop_length, n_mels } = this.params
    const chunk = samples instanceof Float64Array ? samples : Float64Array.from(samples)
    const kept = this.pendingLength
    const total = kept + chunk.length
    const frames = total < n_fft ? 0 : 1 + Math.floor((total - n_fft) / hop_length)
    const data = new Float32Array(frames * n_mels)
    let f = 0
    if (kept > 0) {
      this.pending.set(chunk.subarray(0, n_fft), kept)
      for (; f < frames && f * hop_length < kept; f++) this.frameAt(this.pending, f * hop_length, data, f * n_mels)
    }
    for (; f < frames; f++) this.frameAt(chunk, f * hop_length - kept, data, f * n_mels)
    const consumed = frames * hop_length
    // the rest: in the chunk, or (no frame reached the chunk, which is then shorter than n_fft) all in pending
    if (consumed >= kept) this.pending.set(chunk.subarray(consumed - kept), 0)
    else this.pending.copyWithin(0, consumed, total)
    this.pendingLength = total - consumed
    this.framesEmitted += frames
    return { frames, nMels: n_mels, data }
  }

  /** The log-Mel frame of samples[start, start + n_fft) into out[at, at + n_mels). */
  private frameAt(samples: Float64Array, start: number, out: Float32Array, at: number): void {
    const { power } = this
    const energies = this.energies.values
    this.fft.computeWindowed(samples, start, this.window, power)
    const { firstBin, filterEnd, lowerWeight, upperWeight } = this.mel
    const { n_mels, log_offset } = this.params
    // the energies of filter m and m + 1 in locals: an array's read-add-write per bin waited on the previous bin's
    // store
    let k = firstBin
    let energy = 0
    let nextEnergy = 0
    for (let m = 0; m < n_mels; m++) {
      for (const end = filterEnd[m]!; k < end; k++) {
        energy += lowerWeight[k]! * power[k]!
        nextEnergy += upperWeight[k]! * power[k]!
      }
      energies[m] = energy + log_offset
      energy = nextEnergy
      nextEnergy = 0
    }
    this.energies.writeLogs(out, at)
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
