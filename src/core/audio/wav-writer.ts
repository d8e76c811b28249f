import { open, type FileHandle } from 'node:fs/promises'
import { endianness } from 'node:os'
import type { Samples } from './types'

export const HEADER_BYTES = 44

// WAV is little-endian, and so is every platform Node runs Phonoscope on: Int16Array's bytes are written as they are
if (endianness() !== 'LE')
  throw new Error('16-bit PCM is written in the platform byte order: big-endian is unsupported')

/** Samples in [-1, 1] as 16-bit PCM (x 32768, rounded, clipped): the inverse of the decoders' scaling. */
export function toPcm16(samples: Samples, out: Int16Array = new Int16Array(samples.length)): Int16Array {
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * 32768)
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v
  }
  return out
}

/**
 * Writes mono 16-bit PCM WAV as samples arrive. The header's sizes are rewritten on every flush, so the file on
 * disk is a valid WAV of everything flushed so far (what the crash-safe recorder relies on). Rewriting the header
 * and truncating need no new space, so a writer stopped by a full disk still closes a valid file of what it kept.
 */
export class WavWriter {
  private frames = 0

  private constructor(
    private readonly file: FileHandle,
    readonly sampleRate: number,
  ) {}

  static async create(path: string, sampleRate: number): Promise<WavWriter> {
    const writer = new WavWriter(await open(path, 'w'), sampleRate)
    await writer.writeHeader()
    return writer
  }

  get framesWritten(): number {
    return this.frames
  }

  async append(samples: Samples): Promise<void> {
    await this.appendPcm16(toPcm16(samples))
  }

  /** Appends samples already as 16-bit PCM (toPcm16). */
  async appendPcm16(pcm: Int16Array): Promise<void> {
    const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)
    // a short write (the disk filling up) keeps what it wrote; the next write then fails
    let written = 0
    try {
      while (written < bytes.length) {
        const at = HEADER_BYTES + this.frames * 2 + written
        written += (await this.file.write(bytes, written, bytes.length - written, at)).bytesWritten
      }
    } finally {
      this.frames += Math.floor(written / 2)
    }
  }

  /** Makes everything appended so far durable and readable: header sizes updated, then fsync. */
  async flush(): Promise<void> {
    await this.writeHeader()
    await this.file.sync()
  }

  /** Ends the file at its last whole sample (a failed write may have left half of one) and makes it durable. */
  async close(): Promise<void> {
    await this.file.truncate(HEADER_BYTES + this.frames * 2)
    await this.flush()
    await this.file.close()
  }

  private async writeHeader(): Promise<void> {
    const dataBytes = this.frames * 2
    const h = Buffer.alloc(HEADER_BYTES)
    h.write('RIFF', 0, 'latin1')
    h.writeUInt32LE(36 + dataBytes, 4)
    h.write('WAVEfmt ', 8, 'latin1')
    h.writeUInt32LE(16, 16)
    h.writeUInt16LE(1, 20) // PCM
    h.writeUInt16LE(1, 22) // mono
    h.writeUInt32LE(this.sampleRate, 24)
    h.writeUInt32LE(this.sampleRate * 2, 28)
    h.writeUInt16LE(2, 32)
    h.writeUInt16LE(16, 34)
    h.write('data', 36, 'latin1')
    h.writeUInt32LE(dataBytes, 40)
    await this.file.write(h, 0, HEADER_BYTES, 0)
  }
}
