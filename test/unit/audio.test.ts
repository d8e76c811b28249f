import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openAudio } from '../../src/core/audio/decode'
import { resampleStream } from '../../src/core/audio/resample'
import { WavWriter } from '../../src/core/audio/wav-writer'
import { PowerSpectrum } from '../../src/core/dsp/fft'
import { LogMelStream } from '../../src/core/dsp/logmel'
import { sine, wavBytes } from '../helpers/wav'
import { collect } from '../helpers/audio'

const dir = mkdtempSync(join(tmpdir(), 'phonoscope-audio-'))

async function* inChunks(x: Float64Array, size: number): AsyncGenerator<Float64Array> {
  for (let i = 0; i < x.length; i += size) yield x.subarray(i, i + size)
}

/** Amplitude of a sinusoid at `freq` in `x` (single-bin DFT, windowless over a whole number of periods). */
function amplitudeAt(x: Float64Array, freq: number, rate: number): number {
  let re = 0
  let im = 0
  for (let i = 0; i < x.length; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * freq * i) / rate)
    im -= x[i]! * Math.sin((2 * Math.PI * freq * i) / rate)
  }
  return (2 * Math.hypot(re, im)) / x.length
}

describe('resampling to 4 kHz', () => {
  const tone = (freq: number, rate: number): Float64Array => Float64Array.from(sine(freq, 2, rate), ([v]) => v!)

  it.each([44100, 48000, 8000, 22050])(
    'keeps a 440 Hz tone at %i Hz: length ceil(n * 4000 / rate), amplitude kept',
    async (rate) => {
      const out = await collect(resampleStream(inChunks(tone(440, rate), 4096), rate, 4000))
      expect(out.length).toBe(Math.ceil((2 * rate * 4000) / rate))
      const middle = out.subarray(200, 7800) // away from the converter's edges
      expect(amplitudeAt(middle, 440, 4000)).toBeCloseTo(0.5, 2)
    },
  )

  it('removes what would alias: a 3 kHz tone at 44.1 kHz leaves < -60 dB at its 1 kHz alias', async () => {
    const out = await collect(resampleStream(inChunks(tone(3000, 44100), 4096), 44100, 4000))
    expect(20 * Math.log10(amplitudeAt(out.subarray(200, 7800), 1000, 4000) / 0.5)).toBeLessThan(-60)
  })

  it('does not depend on how the input is chunked', async () => {
    const x = tone(300, 48000)
    const a = await collect(resampleStream(inChunks(x, 4096), 48000, 4000))
    const b = await collect(resampleStream(inChunks(x, 999), 48000, 4000))
    expect(b.length).toBe(a.length)
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-6)
  })

  it('passes 4 kHz audio through untouched', async () => {
    const x = tone(300, 4000)
    expect(await collect(resampleStream(inChunks(x, 1000), 4000, 4000))).toEqual(x)
  })
})

describe('WAV decoding', () => {
  it('reads 8/16/24/32-bit PCM and averages channels to mono', async () => {
    for (const bits of [8, 16, 24, 32] as const) {
      const path = join(dir, `stereo-${bits}.wav`)
      writeFileSync(
        path,
        wavBytes({
          bits,
          samples: [
            [0.5, -0.5],
            [0.25, 0.75],
            [-1, -1],
          ],
        }),
      )
      const audio = await openAudio(path)
      expect(audio.info).toMatchObject({ container: 'wav', channels: 2, bitsPerSample: bits, frames: 3 })
      const mono = await collect(audio.chunks)
      const lsb = 2 / 2 ** bits
      expect(Math.abs(mono[0]!)).toBeLessThanOrEqual(lsb)
      expect(Math.abs(mono[1]! - 0.5)).toBeLessThanOrEqual(lsb)
      expect(Math.abs(mono[2]! + 1)).toBeLessThanOrEqual(lsb)
    }
  })

  it('round-trips through the streaming WavWriter, and the file is valid after every flush', async () => {
    const path = join(dir, 'written.wav')
    const writer = await WavWriter.create(path, 4000)
    const x = Float64Array.from({ length: 5000 }, (_, i) => (Math.round(10000 * Math.sin(i / 7)) | 0) / 32768)
    await writer.append(x.subarray(0, 3000))
    await writer.flush()
    expect(await collect((await openAudio(path)).chunks)).toEqual(x.slice(0, 3000))
    await writer.append(x.subarray(3000))
    await writer.close()
    expect(await collect((await openAudio(path)).chunks)).toEqual(x)
  })
})

describe('log-Mel streaming', () => {
  it('gives the same frames whatever the chunk sizes', () => {
    const x = Float64Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 5) * Math.cos(i / 300))
    const whole = new LogMelStream().push(x)
    const stream = new LogMelStream()
    const parts: number[] = []
    let offset = 0
    for (const size of [1, 255, 256, 129, 1000, 7, 8352]) {
      parts.push(...stream.push(x.subarray(offset, offset + size)).data)
      offset += size
    }
    expect(offset).toBe(x.length)
    expect(whole.frames).toBe(1 + Math.floor((10_000 - 256) / 128))
    expect(Float32Array.from(parts)).toEqual(whole.data)
  })

  it('FFT power spectrum equals a direct DFT', () => {
    const n = 256
    const frame = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.3) + 0.2 * Math.cos(i * 1.7) + (i % 7) / 10)
    const fast = new Float64Array(n / 2 + 1)
    new PowerSpectrum(n).compute(frame, fast)
    for (let k = 0; k <= n / 2; k++) {
      let re = 0
      let im = 0
      for (let t = 0; t < n; t++) {
        re += frame[t]! * Math.cos((2 * Math.PI * k * t) / n)
        im -= frame[t]! * Math.sin((2 * Math.PI * k * t) / n)
      }
      expect(fast[k]).toBeCloseTo(re * re + im * im, 6)
    }
  })
})
