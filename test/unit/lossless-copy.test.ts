import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LosslessCopy, sha256Of } from '../../src/core/audio/lossless'
import type { AudioInfo } from '../../src/core/audio/types'
import { InputError } from '../../src/core/errors'
import { samplesOf } from '../helpers/audio'
import { scratch } from '../helpers/paths'

const info = (edit: Partial<AudioInfo> = {}): AudioInfo => ({
  container: 'flac',
  sampleRate: 4000,
  channels: 1,
  bitsPerSample: 16,
  encoding: 'pcm',
  frames: undefined,
  ...edit,
})

/** 16-bit values as the decoders give them (x / 32768), a different value at every sample. */
const pcmLike = (n: number, from = 0) =>
  Float64Array.from({ length: n }, (_, i) => (((i + from) * 7919) % 65536) / 32768 - 1)

describe('the store’s lossless copy', () => {
  it('keeps every sample, in order, through batches, a chunk larger than a batch, and an unknown length', async () => {
    const { dir } = scratch('phonoscope-lossless-')
    for (const frames of [undefined, 5000]) {
      const wav = join(dir, `copy-${frames}.wav`)
      const copy = await LosslessCopy.create('source.flac', info({ frames }), wav)
      const chunks = [4096, 700_000, 123, 600_000, 4096].map((n, k, all) =>
        pcmLike(
          n,
          all.slice(0, k).reduce((a, b) => a + b, 0),
        ),
      )
      for (const chunk of chunks) await copy.append(chunk)
      const sha256 = await copy.finish()
      expect(sha256).toBe(sha256Of(readFileSync(wav)))
      const back = await samplesOf(wav)
      const want = pcmLike(chunks.reduce((n, c) => n + c.length, 0))
      expect(back.length).toBe(want.length)
      expect(back.every((v, i) => v === want[i])).toBe(true)
    }
  })

  it('refuses what 16-bit mono PCM would lose, and a source without samples', async () => {
    const { dir } = scratch('phonoscope-lossless-')
    const wav = join(dir, 'x.wav')
    for (const [edit, why] of [
      [{ encoding: 'float', bitsPerSample: 32 }, 'float samples'],
      [{ bitsPerSample: 24 }, '24-bit samples'],
      [{ channels: 2 }, '2 channels'],
    ] as const) {
      const refused = LosslessCopy.create('in.wav', info(edit), wav)
      await expect(refused).rejects.toThrow(InputError)
      await expect(refused).rejects.toThrow(`in.wav: ${why}: the store keeps 16-bit mono PCM`)
    }
    const empty = await LosslessCopy.create('empty.wav', info(), wav)
    await expect(empty.finish()).rejects.toThrow('empty.wav: no samples')
  })
})
