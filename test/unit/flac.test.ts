import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { audioInfo } from '../../src/core/audio/decode'
import { InputError } from '../../src/core/errors'
import { samplesOf } from '../helpers/audio'
import { corpus } from '../helpers/paths'
import { wavBytes } from '../helpers/wav'

const dir = mkdtempSync(join(tmpdir(), 'phonoscope-flac-'))

/** Noise-like test signal: every bit of the samples is used, so prediction and Rice coding are exercised. */
function noisy(frames: number, channels: number, seed = 1): number[][] {
  let state = seed
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1
  return Array.from({ length: frames }, (_, i) =>
    Array.from({ length: channels }, (_, c) => 0.6 * Math.sin((i * (c + 1)) / 9) + 0.3 * next()),
  )
}

/** A FLAC made by libFLAC (through sox) from a WAV: the decoder must give exactly the WAV's samples. */
function flacOf(name: string, wav: Buffer, soxOptions: string[] = []): { wav: string; flac: string } {
  const wavPath = join(dir, `${name}.wav`)
  const flacPath = join(dir, `${name}.flac`)
  writeFileSync(wavPath, wav)
  execFileSync('sox', [wavPath, ...soxOptions, flacPath])
  return { wav: wavPath, flac: flacPath }
}

const decodeError = async (path: string): Promise<string> => {
  try {
    await samplesOf(path)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return (error as Error).message
  }
  throw new Error(`${path} decoded without an error`)
}

describe('FLAC decoding (pure TypeScript, checked against libFLAC encodings)', () => {
  it.each([
    ['mono 16-bit 4 kHz', { bits: 16 as const, sampleRate: 4000, channels: 1 }, []],
    ['stereo 16-bit 44.1 kHz (mid/side)', { bits: 16 as const, sampleRate: 44100, channels: 2 }, []],
    ['stereo 24-bit 48 kHz', { bits: 24 as const, sampleRate: 48000, channels: 2 }, []],
    ['3 channels 16-bit', { bits: 16 as const, sampleRate: 8000, channels: 3 }, []],
    [
      'mono 16-bit, highest compression (LPC order 12)',
      { bits: 16 as const, sampleRate: 4000, channels: 1 },
      ['-C', '8'],
    ],
    ['mono 16-bit, fixed predictors only', { bits: 16 as const, sampleRate: 4000, channels: 1 }, ['-C', '0']],
    ['mono 8-bit', { bits: 8 as const, sampleRate: 4000, channels: 1 }, []],
  ])('%s: the same samples as the WAV it was encoded from', async (name, format, soxOptions) => {
    const samples = noisy(20_011, format.channels) // odd length: a short last block
    const { wav, flac } = flacOf(name.replace(/\W+/g, '-'), wavBytes({ samples, ...format }), soxOptions)
    const info = await audioInfo(flac)
    expect(info).toMatchObject({ container: 'flac', sampleRate: format.sampleRate, channels: format.channels })
    expect(info.frames).toBe(20_011)
    expect(await samplesOf(flac)).toEqual(await samplesOf(wav))
  })

  it('streams a long file block by block, and skips metadata larger than the first read', async () => {
    // 12 s of 48 kHz stereo 24-bit noise: megabytes of frames, read in several blocks
    const { wav, flac } = flacOf('long', wavBytes({ samples: noisy(576_000, 2), bits: 24, sampleRate: 48000 }))
    const expected = await samplesOf(wav)
    expect(await samplesOf(flac)).toEqual(expected)

    // a 600 kB PADDING block after STREAMINFO, as a tagger leaves room for a cover picture
    const bytes = readFileSync(flac)
    const streamInfoWasLast = bytes[4]! & 0x80
    const padding = Buffer.alloc(4 + 600_000)
    padding[0] = streamInfoWasLast | 1
    padding.writeUIntBE(600_000, 1, 3)
    const padded = Buffer.concat([
      bytes.subarray(0, 4),
      Buffer.from([bytes[4]! & 0x7f]),
      bytes.subarray(5, 42),
      padding,
      bytes.subarray(42),
    ])
    writeFileSync(join(dir, 'padded.flac'), padded)
    expect(await samplesOf(join(dir, 'padded.flac'))).toEqual(expected)
  })

  it('digital silence (constant subframes) decodes to zeros', async () => {
    const { flac } = flacOf('silence', wavBytes({ samples: Array.from({ length: 9000 }, () => [0]) }))
    const x = await samplesOf(flac)
    expect(x.length).toBe(9000)
    expect(x.every((v) => v === 0)).toBe(true)
  })

  it('refuses a damaged frame (CRC), a wrong MD5 signature and a cut-off file, naming the file', async () => {
    const { flac } = flacOf('damaged', wavBytes({ samples: noisy(30_000, 1) }))
    const bytes = readFileSync(flac)

    const flipped = Buffer.from(bytes)
    flipped[bytes.length - 500]! ^= 0x10
    writeFileSync(join(dir, 'flipped.flac'), flipped)
    expect(await decodeError(join(dir, 'flipped.flac'))).toMatch(/flipped\.flac: corrupt FLAC: .*(CRC|sync)/)

    const md5 = Buffer.from(bytes)
    md5[8 + 18]! ^= 0xff // STREAMINFO's MD5 signature
    writeFileSync(join(dir, 'md5.flac'), md5)
    expect(await decodeError(join(dir, 'md5.flac'))).toMatch(/md5\.flac: corrupt FLAC: .*MD5/)

    writeFileSync(join(dir, 'cut.flac'), bytes.subarray(0, bytes.length - 300))
    expect(await decodeError(join(dir, 'cut.flac'))).toMatch(/cut\.flac: truncated FLAC/)

    writeFileSync(join(dir, 'head.flac'), bytes.subarray(0, 20)) // cut inside STREAMINFO
    expect(await decodeError(join(dir, 'head.flac'))).toMatch(/head\.flac: corrupt FLAC: no valid STREAMINFO/)
  })
})

const { available, dir: circor } = corpus()
describe.skipIf(!available)('FLAC decoding of the shared corpus', () => {
  it('decodes every 6th CirCor recording to the samples its own MD5 signature describes', async () => {
    const manifest = readFileSync(join(circor, 'manifest.csv'), 'utf8').trim().split('\n')
    const pathColumn = manifest[0]!.split(',').indexOf('path')
    const framesColumn = manifest[0]!.split(',').indexOf('frames')
    const rows = manifest.slice(1).filter((_, i) => i % 6 === 0)
    for (const row of rows) {
      const cells = row.split(',')
      // a mismatch with the MD5 of STREAMINFO throws; the length must be the manifest's
      expect((await samplesOf(join(circor, cells[pathColumn]!))).length).toBe(Number(cells[framesColumn]))
    }
    expect(rows.length).toBeGreaterThan(290)
  }, 120_000)
})
