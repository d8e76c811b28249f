import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { InputError } from '../errors'
import type { AudioInfo, Samples } from './types'
import { WavWriter } from './wav-writer'

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
  private constructor(
    private readonly source: string,
    private readonly wav: string,
    private readonly writer: WavWriter,
  ) {}

  static async create(source: string, info: AudioInfo, wav: string): Promise<LosslessCopy> {
    const lost = loss(info)
    if (lost) {
      throw new InputError(
        source,
        `${lost}: the store keeps 16-bit mono PCM and would lose some of it (convert it first)`,
      )
    }
    return new LosslessCopy(source, wav, await WavWriter.create(wav, info.sampleRate))
  }

  append(samples: Samples): Promise<void> {
    return this.writer.append(samples)
  }

  /** Closes the WAV and gives its sha256; a WAV without samples is refused. */
  async finish(): Promise<string> {
    await this.writer.close()
    if (this.writer.framesWritten === 0) throw new InputError(this.source, 'no samples')
    return sha256Of(await readFile(this.wav))
  }

  /** Closes the WAV of a decode that failed (the caller removes it with its scratch folder). */
  async abandon(): Promise<void> {
    await this.writer.close().catch(() => undefined)
  }
}
