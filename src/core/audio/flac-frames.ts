/**
 * FLAC frame decoding (https://www.rfc-editor.org/rfc/rfc9639): frame headers, the four subframe kinds, Rice-coded
 * residuals, inter-channel decorrelation, CRC-8/CRC-16 checks. Pure TypeScript: no WebAssembly instance to create or
 * reset per file, which cost more than decoding a 20-second heart sound. Integer samples out, exactly as encoded.
 */

/** Thrown when a frame runs past the bytes at hand: read more and try the same frame again. */
export const NEED_MORE = Symbol('need more FLAC bytes')

/** A broken stream; the message says what was wrong, for the user. */
export class FlacFormatError extends Error {}

export interface StreamInfo {
  sampleRate: number
  channels: number
  bitsPerSample: number
  /** sample frames per channel; 0 when the encoder did not know */
  totalFrames: number
  maxBlockSize: number
  /** MD5 of the decoded PCM (16 bytes), all zero when not computed by the encoder */
  md5: Uint8Array
}

const CRC8 = new Uint8Array(256)
const CRC16 = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let c8 = i
  let c16 = i << 8
  for (let b = 0; b < 8; b++) {
    c8 = c8 & 0x80 ? ((c8 << 1) ^ 0x07) & 0xff : (c8 << 1) & 0xff
    c16 = c16 & 0x8000 ? ((c16 << 1) ^ 0x8005) & 0xffff : (c16 << 1) & 0xffff
  }
  CRC8[i] = c8
  CRC16[i] = c16
}

/** The frame header's CRC-8 (polynomial 0x07) of bytes[start, end). */
export function crc8(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0
  for (let i = start; i < end; i++) crc = CRC8[crc ^ bytes[i]!]!
  return crc
}

/**
 * CRC16_AHEAD[n][b]: the CRC-16 register after byte b followed by n zero bytes (CRC16_AHEAD[0] is CRC16). The CRC is
 * linear, so four bytes at once are the XOR of four such lookups ("slicing by 4").
 */
const CRC16_AHEAD = [CRC16]
for (let n = 1; n < 4; n++) {
  const last = CRC16_AHEAD[n - 1]!
  CRC16_AHEAD.push(Uint16Array.from(last, (c) => ((c << 8) & 0xffff) ^ CRC16[c >> 8]!))
}

/**
 * The frame's CRC-16 (polynomial 0x8005) of bytes[start, end), four bytes a step: it covers every byte of the audio,
 * and byte by byte it took a twelfth of decoding.
 */
export function crc16(bytes: Uint8Array, start: number, end: number): number {
  const [t0, t1, t2, t3] = CRC16_AHEAD as [Uint16Array, Uint16Array, Uint16Array, Uint16Array]
  let crc = 0
  let i = start
  for (; i + 4 <= end; i += 4) {
    const high = crc ^ ((bytes[i]! << 8) | bytes[i + 1]!)
    crc = t3[high >> 8]! ^ t2[high & 0xff]! ^ t1[bytes[i + 2]!]! ^ t0[bytes[i + 3]!]!
  }
  for (; i < end; i++) crc = ((crc << 8) & 0xffff) ^ t0[(crc >> 8) ^ bytes[i]!]!
  return crc
}

/** Big-endian bit reader over bytes[start, end); past `end` it throws NEED_MORE. */
class BitReader {
  pos: number
  bit = 0

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start
  }

  /** n <= 32 bits, unsigned */
  read(n: number): number {
    let value = 0
    while (n > 0) {
      if (this.pos >= this.end) throw NEED_MORE
      const available = 8 - this.bit
      const take = n < available ? n : available
      const bits = (this.bytes[this.pos]! >> (available - take)) & ((1 << take) - 1)
      value = value * (1 << take) + bits
      n -= take
      this.bit += take
      if (this.bit === 8) {
        this.bit = 0
        this.pos++
      }
    }
    return value
  }

  /** n <= 32 bits, two's complement */
  readSigned(n: number): number {
    if (n === 0) return 0
    const value = this.read(n)
    return value >= 2 ** (n - 1) ? value - 2 ** n : value
  }

  /** zeros before the next one bit (which is consumed) */
  readUnary(): number {
    let count = 0
    for (;;) {
      if (this.pos >= this.end) throw NEED_MORE
      const rest = (this.bytes[this.pos]! << this.bit) & 0xff
      if (rest === 0) {
        count += 8 - this.bit
        this.bit = 0
        this.pos++
        continue
      }
      const zeros = Math.clz32(rest) - 24
      count += zeros
      this.bit += zeros + 1
      if (this.bit === 8) {
        this.bit = 0
        this.pos++
      }
      return count
    }
  }

  alignToByte(): void {
    if (this.bit !== 0) {
      this.bit = 0
      this.pos++
    }
  }
}

const BLOCK_SIZES = [0, 192, 576, 1152, 2304, 4608, -8, -16, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]
const SAMPLE_SIZES = [0, 8, 12, -1, 16, 20, 24, 32]

export interface Frame {
  /** per channel, integer samples in [0, blockSize); the buffers are reused by the next decodeFrame call */
  channels: Int32Array[]
  blockSize: number
  bitsPerSample: number
  /** bytes the frame took */
  length: number
}

/**
 * Decodes the frame starting at bytes[start] (within bytes[start, end)) into `buffers` (one per channel, grown as
 * needed). Throws NEED_MORE when the frame is not all there yet, FlacFormatError when it is broken.
 */
export function decodeFrame(
  bytes: Uint8Array,
  start: number,
  end: number,
  info: StreamInfo,
  buffers: Int32Array[],
): Frame {
  const r = new BitReader(bytes, start, end)
  if (r.read(15) !== 0x7ffc) throw new FlacFormatError('lost frame sync')
  r.read(1) // blocking strategy: fixed or variable, the same to a decoder
  const blockCode = r.read(4)
  const rateCode = r.read(4)
  const channelCode = r.read(4)
  const sizeCode = r.read(3)
  r.read(1)
  readUtf8Number(r)
  let blockSize = BLOCK_SIZES[blockCode]!
  if (blockSize === -8) blockSize = r.read(8) + 1
  else if (blockSize === -16) blockSize = r.read(16) + 1
  if (blockSize === 0) throw new FlacFormatError('reserved block size')
  if (rateCode === 12) r.read(8)
  else if (rateCode === 13 || rateCode === 14) r.read(16)
  else if (rateCode === 15) throw new FlacFormatError('invalid sample rate code')
  const headerEnd = r.pos
  if (r.read(8) !== crc8(bytes, start, headerEnd)) throw new FlacFormatError('frame header CRC mismatch')
  if (blockSize > Math.max(info.maxBlockSize, 16)) throw new FlacFormatError(`block of ${blockSize} samples`)

  let bitsPerSample = SAMPLE_SIZES[sizeCode]!
  if (bitsPerSample === 0) bitsPerSample = info.bitsPerSample
  if (bitsPerSample < 0) throw new FlacFormatError('reserved sample size')
  const nChannels = channelCode < 8 ? channelCode + 1 : 2
  if (channelCode > 10) throw new FlacFormatError('reserved channel assignment')
  if (nChannels !== info.channels) throw new FlacFormatError('channel count differs from STREAMINFO')

  const channels: Int32Array[] = []
  for (let c = 0; c < nChannels; c++) {
    if ((buffers[c]?.length ?? 0) < blockSize) buffers[c] = new Int32Array(Math.max(blockSize, info.maxBlockSize))
    // the side channel carries one bit more
    const side = (channelCode === 8 && c === 1) || (channelCode === 9 && c === 0) || (channelCode === 10 && c === 1)
    channels.push(decodeSubframe(r, buffers[c]!.subarray(0, blockSize), bitsPerSample + (side ? 1 : 0)))
  }
  decorrelate(channelCode, channels, blockSize)

  r.alignToByte()
  const frameEnd = r.pos
  if (r.read(16) !== crc16(bytes, start, frameEnd)) throw new FlacFormatError('frame CRC mismatch')
  return { channels, blockSize, bitsPerSample, length: r.pos - start }
}

function readUtf8Number(r: BitReader): void {
  const first = r.read(8)
  let more = 0
  for (let mask = 0x80; first & mask && more < 7; mask >>= 1) more++
  if (more === 1 || more > 7) throw new FlacFormatError('invalid frame number')
  for (let i = 1; i < more; i++) if (r.read(8) >> 6 !== 2) throw new FlacFormatError('invalid frame number')
}

function decodeSubframe(r: BitReader, out: Int32Array, bps: number): Int32Array {
  const blockSize = out.length
  if (r.read(1) !== 0) throw new FlacFormatError('subframe padding bit set')
  const type = r.read(6)
  let wasted = 0
  if (r.read(1)) wasted = r.readUnary() + 1
  const bits = bps - wasted
  if (type === 0) {
    out.fill(r.readSigned(bits))
  } else if (type === 1) {
    for (let i = 0; i < blockSize; i++) out[i] = r.readSigned(bits)
  } else if (type >= 8 && type <= 12) {
    const order = type - 8
    for (let i = 0; i < order; i++) out[i] = r.readSigned(bits)
    readResidual(r, out, order)
    fixedPrediction(out, order)
  } else if (type >= 32) {
    const order = type - 31
    for (let i = 0; i < order; i++) out[i] = r.readSigned(bits)
    const precision = r.read(4) + 1
    if (precision === 16) throw new FlacFormatError('invalid LPC precision')
    const shift = r.readSigned(5)
    if (shift < 0) throw new FlacFormatError('negative LPC shift')
    const coefficients = LPC_COEFFICIENTS.fill(0)
    for (let i = 0; i < order; i++) coefficients[i] = r.readSigned(precision)
    readResidual(r, out, order)
    lpcPrediction(out, order, shift, bits)
  } else {
    throw new FlacFormatError(`reserved subframe type ${type}`)
  }
  if (wasted > 0) for (let i = 0; i < blockSize; i++) out[i] = out[i]! * 2 ** wasted
  return out
}

/**
 * Rice-coded residuals into out[order..]; partitioned, with escape codes for raw partitions. The hot loop of
 * decoding: most codes (unary quotient, stop bit, k low bits) fit in the 25+ bits of one 32-bit window read at the
 * reader's position, which Math.clz32 splits; a longer code, or one near the end of the bytes, takes the bit reader.
 */
function readResidual(r: BitReader, out: Int32Array, order: number): void {
  const method = r.read(2)
  if (method > 1) throw new FlacFormatError('reserved residual coding method')
  const paramBits = method === 0 ? 4 : 5
  const escape = method === 0 ? 15 : 31
  const partitionOrder = r.read(4)
  const partitions = 1 << partitionOrder
  const perPartition = out.length >> partitionOrder
  if (perPartition << partitionOrder !== out.length || perPartition < order) {
    throw new FlacFormatError('residual partitions do not fit the block')
  }
  // one big-endian 32-bit read per code (or two): 12 % faster frame decoding than assembling the window from four bytes
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength)
  // windows of 4 bytes are read up to here; the last few codes take the bit reader, which checks the end
  const windowEnd = r.end - 4
  let at = order
  for (let p = 0; p < partitions; p++) {
    const stop = (p + 1) * perPartition
    const k = r.read(paramBits)
    if (k === escape) {
      const raw = r.read(5)
      for (; at < stop; at++) out[at] = r.readSigned(raw)
      continue
    }
    let pos = r.pos
    let bit = r.bit
    for (; at < stop; at++) {
      let folded: number
      const window = pos <= windowEnd ? view.getInt32(pos) << bit : 0
      const quotient = Math.clz32(window) // 32 when the window is empty or past windowEnd
      const used = quotient + 1 + k
      if (used <= 32 - bit) {
        // k = 0: no low bits (a shift by 32 would be one by 0)
        folded = (quotient << k) | (k === 0 ? 0 : ((window << quotient) << 1) >>> (32 - k))
        // the next code, when it lies in the rest of the window, without another read: the next window's address
        // waited on this code's length, a chain of dependent steps per code
        const next = window << used // the rest of the window, zeros after it (used = 32 leaves no rest: no fit)
        const nextQuotient = Math.clz32(next)
        const nextUsed = nextQuotient + 1 + k
        if (nextUsed <= 32 - bit - used && at + 1 < stop) {
          out[at++] = (folded >>> 1) ^ -(folded & 1)
          folded = (nextQuotient << k) | (k === 0 ? 0 : ((next << nextQuotient) << 1) >>> (32 - k))
          bit += nextUsed
        }
        bit += used
        pos += bit >> 3
        bit &= 7
      } else {
        r.pos = pos
        r.bit = bit
        folded = r.readUnary() * 2 ** k + r.read(k) // residuals are 32-bit: folded < 2^32
        pos = r.pos
        bit = r.bit
      }
      out[at] = (folded >>> 1) ^ -(folded & 1)
    }
    r.pos = pos
    r.bit = bit
  }
}

/** Residuals -> samples in place, with the fixed polynomial predictors of order 0-4. */
function fixedPrediction(x: Int32Array, order: number): void {
  const n = x.length
  if (order === 1) for (let i = 1; i < n; i++) x[i] = x[i]! + x[i - 1]!
  else if (order === 2) for (let i = 2; i < n; i++) x[i] = x[i]! + 2 * x[i - 1]! - x[i - 2]!
  else if (order === 3) for (let i = 3; i < n; i++) x[i] = x[i]! + 3 * x[i - 1]! - 3 * x[i - 2]! + x[i - 3]!
  else if (order === 4)
    for (let i = 4; i < n; i++) x[i] = x[i]! + 4 * x[i - 1]! - 6 * x[i - 2]! + 4 * x[i - 3]! - x[i - 4]!
}

/** LPC orders up to this (libFLAC's presets stop at 12; CirCor uses 7-12) run unrolled in lpcPrediction. */
const UNROLLED_LPC_ORDER = 12
/** The current subframe's quantized LPC coefficients, zero past its order (read by lpcPrediction). */
const LPC_COEFFICIENTS = new Int32Array(32)

/**
 * Residuals -> samples in place: x[i] += floor(sum_j c[j] x[i-1-j] / 2^shift), exactly. When sum |c| * 2^(bits-1)
 * is below 2^31 (16-bit audio with libFLAC's 12-bit coefficients: 2^29), no sum can leave int32, so orders up to 12
 * run unrolled in int32 arithmetic (coefficients in locals): the decoder's hottest loop, 3x faster than in doubles.
 * Every partial sum obeys the same bound, so the order of the additions is free. Other streams take the exact double
 * loop (every product and partial sum below 2^53).
 */
function lpcPrediction(x: Int32Array, order: number, shift: number, bits: number): void {
  const c = LPC_COEFFICIENTS
  let magnitude = 0
  for (let j = 0; j < order; j++) magnitude += Math.abs(c[j]!)
  const fitsInt32 = magnitude * 2 ** (bits - 1) < 2 ** 31
  const unrolledFrom = fitsInt32 && order <= UNROLLED_LPC_ORDER ? Math.min(UNROLLED_LPC_ORDER, x.length) : x.length
  exactPrediction(x, order, shift, order, unrolledFrom)
  if (unrolledFrom === x.length) return
  const [c0, c1, c2, c3, c4, c5] = [c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!]
  const [c6, c7, c8, c9, c10, c11] = [c[6]!, c[7]!, c[8]!, c[9]!, c[10]!, c[11]!]
  // four samples a step: each of the twelve samples before them is read once for all four sums, and the later sums
  // wait on the new samples only for their c0, c1, c2 terms
  let i = UNROLLED_LPC_ORDER
  for (; i + 3 < x.length; i += 4) {
    const x1 = x[i - 1]!
    const x2 = x[i - 2]!
    const x3 = x[i - 3]!
    const x4 = x[i - 4]!
    const x5 = x[i - 5]!
    const x6 = x[i - 6]!
    const x7 = x[i - 7]!
    const x8 = x[i - 8]!
    const x9 = x[i - 9]!
    const x10 = x[i - 10]!
    const x11 = x[i - 11]!
    const x12 = x[i - 12]!
    const older0 =
      Math.imul(c0, x1) +
      Math.imul(c1, x2) +
      (Math.imul(c2, x3) + Math.imul(c3, x4)) +
      (Math.imul(c4, x5) + Math.imul(c5, x6) + (Math.imul(c6, x7) + Math.imul(c7, x8))) +
      (Math.imul(c8, x9) + Math.imul(c9, x10) + (Math.imul(c10, x11) + Math.imul(c11, x12)))
    const older1 =
      Math.imul(c1, x1) +
      Math.imul(c2, x2) +
      (Math.imul(c3, x3) + Math.imul(c4, x4)) +
      (Math.imul(c5, x5) + Math.imul(c6, x6) + (Math.imul(c7, x7) + Math.imul(c8, x8))) +
      (Math.imul(c9, x9) + Math.imul(c10, x10) + Math.imul(c11, x11))
    const older2 =
      Math.imul(c2, x1) +
      Math.imul(c3, x2) +
      (Math.imul(c4, x3) + Math.imul(c5, x4)) +
      (Math.imul(c6, x5) + Math.imul(c7, x6) + (Math.imul(c8, x7) + Math.imul(c9, x8))) +
      (Math.imul(c10, x9) + Math.imul(c11, x10))
    const older3 =
      Math.imul(c3, x1) +
      Math.imul(c4, x2) +
      (Math.imul(c5, x3) + Math.imul(c6, x4)) +
      (Math.imul(c7, x5) + Math.imul(c8, x6) + (Math.imul(c9, x7) + Math.imul(c10, x8))) +
      Math.imul(c11, x9)
    const s0 = (x[i]! + (older0 >> shift)) | 0
    const s1 = (x[i + 1]! + ((older1 + Math.imul(c0, s0)) >> shift)) | 0
    const s2 = (x[i + 2]! + ((older2 + Math.imul(c1, s0) + Math.imul(c0, s1)) >> shift)) | 0
    const s3 = (x[i + 3]! + ((older3 + Math.imul(c2, s0) + Math.imul(c1, s1) + Math.imul(c0, s2)) >> shift)) | 0
    x[i] = s0
    x[i + 1] = s1
    x[i + 2] = s2
    x[i + 3] = s3
  }
  // up to three samples left
  exactPrediction(x, order, shift, i, x.length)
}

/** lpcPrediction's exact loop for samples [from, to), in doubles */
function exactPrediction(x: Int32Array, order: number, shift: number, from: number, to: number): void {
  const c = LPC_COEFFICIENTS
  const scale = 2 ** -shift
  for (let i = from; i < to; i++) {
    let sum = 0
    for (let j = 0; j < order; j++) sum += c[j]! * x[i - 1 - j]!
    x[i] = x[i]! + Math.floor(sum * scale)
  }
}

function decorrelate(code: number, ch: Int32Array[], n: number): void {
  if (code < 8) return
  const [a, b] = ch as [Int32Array, Int32Array]
  if (code === 8)
    for (let i = 0; i < n; i++) b[i] = a[i]! - b[i]! // left, side -> left, right
  else if (code === 9)
    for (let i = 0; i < n; i++) a[i] = a[i]! + b[i]! // side, right -> left, right
  else {
    for (let i = 0; i < n; i++) {
      const side = b[i]!
      const mid = a[i]! * 2 + (side & 1)
      a[i] = (mid + side) >> 1
      b[i] = (mid - side) >> 1
    }
  }
}
