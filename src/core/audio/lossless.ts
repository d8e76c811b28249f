import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { InputError } from '../errors'
import type { AudioInfo, Samples } from './types'
import { toPcm16, WavWriter } from './wav-writer'

/** Samples gathered before one write: a recording of CirCor's length is one write, a long one bounded memory. */
const BATCH_SAMPLES = 1 << 19

export const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** What a 16-bit mono PCM copy would lose of audio like this, or undefined when it loses nothing. */
function loss({ encoding, bitsPerSample, channels }: AudioInfo): string | undefined {
  if (encoding === 'float') return 'float samples'
  if (bitsPerSample > 16) return `${bitsPerSample}-bit samples`
  if (channels > 1) return `${channels} channels`
  return undefined
}

/**
 * The store's copy of a recording, written as its source is decoded: 16-bit mono PCM WAV at the source's own rate,
 * refused (InputError naming the source) when that would lose anything. `finish` closes it and gives its sha256:
 * the same audio has the same sha256 whatever file it came in (a FLAC and its WAV, an exported bundle's WAV).
 */
export class LosslessCopy {
  private filled = 0

  private constructor(
    private readonly source: string,
    private readonly wav: string,
    private readonly writer: WavWriter,
    /** as long as the file says it is, where it says so and that fits a batch */
    private readonly batch: Int16Array,
  ) {}

  static async create(source: string, info: AudioInfo, wav: string): Promise<LosslessCopy> {
    const lost = loss(info)
    if (lost) {
      throw new InputError(
        source,
        `${lost}: the store keeps 16-bit mono PCM and would lose some of it (convert it first)`,
      )
    }
    const batch = new Int16Array(Math.min(BATCH_SAMPLES, info.frames || BATCH_SAMPLES))
    return new LosslessCopy(source, wav, await WavWriter.create(wav, info.sampleRate), batch)
  }

  async append(samples: Samples): Promise<void> {
    if (this.filled + samples.length > this.batch.length) await this.write()
    if (samples.length > this.batch.length) return this.writer.appendPcm16(toPcm16(samples))
    toPcm16(samples, this.batch.subarray(this.filled, this.filled + samples.length))
    this.filled += samples.length
  }

  private async write(): Promise<void> {
    await this.writer.appendPcm16(this.batch.subarray(0, this.filled))
    this.filled = 0
  }

  /** Closes the WAV and gives its sha256; a WAV without samples is refused. */
  async finish(): Promise<string> {
    await this.write()
    await this.writer.close()
    if (this.writer.framesWritten === 0) throw new InputError(this.source, 'no samples')
    return sha256Of(await readFile(this.wav))
  }

  /** Closes the WAV of a decode that failed (the caller removes it with its scratch folder). */
  async abandon(): Promise<void> {
    await this.writer.close().catch(() => undefined)
  }
}
