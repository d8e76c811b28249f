import { createHash, type Hash } from 'node:crypto'
import { endianness } from 'node:os'
import { InputError } from '../errors'
import type { ByteSource } from './byte-source'
import { decodeFrame, FlacFormatError, NEED_MORE, type Frame, type StreamInfo } from './flac-frames'
import type { AudioInfo, MonoAudioStream, Samples } from './types'

const READ_BLOCK = 1 << 18
/**
 * The most samples one yielded chunk holds (plus one frame). Without it a read block's frames became one chunk, and
 * highly compressed audio (silence, constant frames: a few bytes per 65535 samples) turned 256 KB into gigabytes.
 */
export const MAX_CHUNK_FRAMES = 1 << 16
const LITTLE_ENDIAN = endianness() === 'LE'
const STREAMINFO_BYTES = 34

function parseStreamInfo(s: Buffer): StreamInfo {
  return {
    maxBlockSize: s.readUInt16BE(2),
    sampleRate: (s[10]! << 12) | (s[11]! << 4) | (s[12]! >> 4),
    channels: ((s[12]! >> 1) & 0x07) + 1,
    bitsPerSample: (((s[12]! & 0x01) << 4) | (s[13]! >> 4)) + 1,
    totalFrames: (s[13]! & 0x0f) * 2 ** 32 + s.readUInt32BE(14),
    md5: new Uint8Array(s.subarray(18, 34)),
  }
}

interface Head {
  info: StreamInfo
  /** the bytes read so far that hold the first frames (at most READ_BLOCK) */
  bytes: Buffer
  /** where in `bytes` the frames start */
  audioAt: number
  /** the file offset just after `bytes` */
  position: number
}

/**
 * Reads the file's first block (one read: most heart sounds fit in it) and its metadata: STREAMINFO (mandatory,
 * first), the others skipped, read past when they outgrow the block (a large cover picture).
 */
async function readHead(file: ByteSource, path: string, size: number): Promise<Head> {
  const bytes = Buffer.allocUnsafe(Math.min(size, READ_BLOCK))
  const { bytesRead } = await file.read(bytes, 0, bytes.length, 0)
  const head = bytes.subarray(0, bytesRead)
  let info: StreamInfo | undefined
  for (let at = 4; ;) {
    if (at + 4 > size) throw new InputError(path, 'corrupt FLAC: metadata runs past the end of the file')
    const header = at + 4 <= head.length ? head.subarray(at, at + 4) : await readAt(file, at, 4)
    const last = header[0]! & 0x80
    const type = header[0]! & 0x7f
    const length = header.readUIntBE(1, 3)
    if (!info) {
      if (type !== 0 || length !== STREAMINFO_BYTES || at + 4 + length > size)
        throw new InputError(path, 'corrupt FLAC: no valid STREAMINFO block')
      info = parseStreamInfo(at + 38 <= head.length ? head.subarray(at + 4, at + 38) : await readAt(file, at + 4, 34))
      if (info.sampleRate === 0) throw new InputError(path, 'corrupt FLAC: sample rate of 0 Hz')
    } else if (type === 127) {
      throw new InputError(path, 'corrupt FLAC: invalid metadata block')
    }
    at += 4 + length
    if (last) {
      if (at <= head.length) return { info, bytes: head, audioAt: at, position: head.length }
      const frames = await readAt(file, at, READ_BLOCK)
      return { info, bytes: frames, audioAt: 0, position: at + frames.length }
    }
  }
}

async function readAt(file: ByteSource, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  const { bytesRead } = await file.read(buf, 0, length, position)
  return buf.subarray(0, bytesRead)
}

/**
 * Turns decoded frames into mono samples and checks them against the stream's MD5 signature (of the PCM bytes:
 * samples interleaved, little-endian, (bits + 7) / 8 bytes each). Buffers are reused from frame to frame.
 */
class FrameSink {
  private readonly md5: Hash | undefined
  private readonly bytesPerSample: number
  private readonly scale: number
  private pcm = new Int16Array(0)
  private mono = new Float64Array(0)
  /** samples handed over by take() */
  private taken = 0
  length = 0

  constructor(private readonly info: StreamInfo) {
    this.md5 = info.md5.some((b) => b !== 0) ? createHash('md5') : undefined
    this.bytesPerSample = (info.bitsPerSample + 7) >> 3
    this.scale = 1 / 2 ** (info.bitsPerSample - 1)
  }

  /**
   * Averages the channels and scales integers by 2^(bits-1), as libsndfile (and so librosa and our WAV reader) do:
   * FLAC and WAV copies of a recording give bit-identical samples, identical to the Python side's.
   */
  add({ channels, blockSize }: Frame): void {
    this.hash(channels, blockSize)
    if (this.mono.length < this.length + blockSize) this.grow(this.length + blockSize)
    const out = this.mono.subarray(this.length, this.length + blockSize)
    const { scale } = this
    // one pass for mono, the common case (all of CirCor): decoding is most of the front end's time
    const first = channels[0]!
    for (let i = 0; i < blockSize; i++) out[i] = first[i]! * scale
    for (const channel of channels.slice(1)) {
      for (let i = 0; i < blockSize; i++) out[i] = out[i]! + channel[i]! * scale
    }
    if (channels.length > 1) for (let i = 0; i < blockSize; i++) out[i]! /= channels.length
    this.length += blockSize
  }

  /** The samples added since the last take: handed over, not copied (the next add starts a new buffer). */
  take(): Float64Array {
    const out = this.mono.subarray(0, this.length)
    this.taken += this.length
    this.mono = new Float64Array(0)
    this.length = 0
    return out
  }

  /**
   * A buffer for the chunk being filled, sized once: a whole chunk (MAX_CHUNK_FRAMES and the frame that crosses it),
   * or the rest of the stream when STREAMINFO says that is less (0 when it does not know). Doubling from small cost
   * more than converting the samples (allocations and copies); a stream longer than it declared grows once, to a chunk.
   */
  private grow(needed: number): void {
    const chunk = MAX_CHUNK_FRAMES + Math.max(this.info.maxBlockSize, 16)
    const declaredLeft = this.info.totalFrames - this.taken
    const grown = new Float64Array(Math.max(needed, needed <= declaredLeft ? Math.min(chunk, declaredLeft) : chunk))
    grown.set(this.mono.subarray(0, this.length))
    this.mono = grown
  }

  verify(path: string): void {
    if (this.md5 && !this.md5.digest().equals(this.info.md5)) {
      throw new InputError(path, 'corrupt FLAC: the decoded audio does not match its MD5 signature')
    }
  }

  private hash(channels: Int32Array[], blockSize: number): void {
    if (!this.md5) return
    const n = channels.length
    if (this.bytesPerSample === 2 && LITTLE_ENDIAN) {
      if (this.pcm.length < blockSize * n) this.pcm = new Int16Array(blockSize * n)
      if (n === 1) this.pcm.set(channels[0]!.subarray(0, blockSize))
      else
        for (let c = 0; c < n; c++) {
          const channel = channels[c]!
          for (let i = 0; i < blockSize; i++) this.pcm[i * n + c] = channel[i]!
        }
      this.md5.update(new Uint8Array(this.pcm.buffer, 0, blockSize * n * 2))
      return
    }
    const bytes = Buffer.allocUnsafe(blockSize * n * this.bytesPerSample)
    let at = 0
    for (let i = 0; i < blockSize; i++)
      for (const channel of channels) at = bytes.writeIntLE(channel[i]!, at, this.bytesPerSample)
    this.md5.update(bytes)
  }
}

async function* monoChunks(file: ByteSource, path: string, size: number, head: Head): AsyncGenerator<Samples> {
  const { info } = head
  const sink = new FrameSink(info)
  const channelBuffers: Int32Array[] = []
  let buffer = head.bytes
  let start = head.audioAt
  let end = head.bytes.length
  let position = head.position
  let decoded = 0
  try {
    for (;;) {
      for (;;) {
        if (start === end) break
        let frame: Frame
        try {
          frame = decodeFrame(buffer, start, end, info, channelBuffers)
        } catch (error) {
          if (error !== NEED_MORE) throw error
          if (position >= size) throw new InputError(path, 'truncated FLAC: the last frame is cut off')
          break
        }
        sink.add(frame)
        start += frame.length
        if (sink.length >= MAX_CHUNK_FRAMES) {
          decoded += sink.length
          yield sink.take()
        }
      }
      if (sink.length > 0) {
        decoded += sink.length
        yield sink.take()
      }
      if (position >= size) break
      // keep the unfinished frame, read the next block after it
      const kept = end - start
      const next = Buffer.allocUnsafe(kept + READ_BLOCK)
      buffer.copy(next, 0, start, end)
      const { bytesRead } = await file.read(next, kept, READ_BLOCK, position)
      if (bytesRead === 0) break
      position += bytesRead
      buffer = next
      start = 0
      end = kept + bytesRead
    }
    if (decoded === 0) throw new InputError(path, 'no audio samples')
    sink.verify(path)
  } catch (error) {
    if (error instanceof FlacFormatError) throw new InputError(path, `corrupt FLAC: ${error.message}`)
    throw error
  } finally {
    await file.close()
  }
}

export async function openFlac(file: ByteSource, path: string, size: number): Promise<Omit<MonoAudioStream, 'close'>> {
  const head = await readHead(file, path, size)
  const stream = head.info
  const info: AudioInfo = {
    container: 'flac',
    sampleRate: stream.sampleRate,
    channels: stream.channels,
    bitsPerSample: stream.bitsPerSample,
    encoding: 'pcm',
    // STREAMINFO writes 0 total samples when the encoder did not know the length: then it is unknown, not zero
    frames: stream.totalFrames === 0 ? undefined : stream.totalFrames,
  }
  return { path, info, chunks: monoChunks(file, path, size, head) }
}
