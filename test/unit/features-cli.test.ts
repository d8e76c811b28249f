import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openAudio } from '../../src/core/audio/decode'
import { WavWriter } from '../../src/core/audio/wav-writer'
import { phonoscope, hasStackTrace } from '../helpers/cli'
import { corpus, scratch } from '../helpers/paths'
import { wavBytes } from '../helpers/wav'

const { dir, put } = scratch('phonoscope-features-')

function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const bytes = readFileSync(path)
  expect(bytes.subarray(1, 6).toString('latin1')).toBe('NUMPY')
  const headerLength = bytes.readUInt16LE(8)
  const header = bytes.toString('latin1', 10, 10 + headerLength)
  expect(header).toContain("'descr': '<f4'")
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header)!.slice(1).map(Number)
  const body = bytes.subarray(10 + headerLength)
  return { shape, data: new Float32Array(new Uint8Array(body).buffer) }
}

describe('phonoscope features: bad input gets one line naming the file, exit 2, no stack trace', () => {
  const cases: [string, () => string, RegExp][] = [
    ['missing file', () => join(dir, 'nope.wav'), /file not found/],
    ['empty file', () => put('empty.wav', ''), /empty file/],
    ['text renamed .wav', () => put('text.wav', 'this is not audio\n'.repeat(20)), /not an audio file/],
    [
      'truncated WAV',
      () => put('trunc.wav', wavBytes({ samples: [[0.1], [0.2]], declaredDataBytes: 40000 })),
      /truncated WAV/,
    ],
    [
      'WAV cut inside its header',
      () => put('cut.wav', wavBytes({ samples: [[0.1]] }).subarray(0, 30)),
      /truncated WAV/,
    ],
    [
      'unsupported format (Ogg)',
      () => put('sound.ogg', Buffer.concat([Buffer.from('OggS'), Buffer.alloc(64)])),
      /unsupported format: Ogg/,
    ],
    [
      'unsupported WAV encoding (mu-law)',
      () => put('ulaw.wav', wavBytes({ format: 7, bits: 8 })),
      /unsupported WAV encoding: mu-law/,
    ],
    ['0-channel WAV', () => put('zero-ch.wav', wavBytes({ channels: 0, samples: [] })), /0 channels/],
    ['0-sample WAV', () => put('zero.wav', wavBytes({ samples: [] })), /no audio samples/],
    ['garbage FLAC', () => put('bad.flac', Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(100, 7)])), /corrupt FLAC/],
    ['a directory', () => dir, /is a directory/],
  ]
  it.each(cases)('%s', (_, make, problem) => {
    const file = make()
    const out = join(dir, 'out.json')
    const result = phonoscope('features', file, '--out', out)
    expect(result.status).toBe(2)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(file)
    expect(lines[0]).toMatch(problem)
    expect(hasStackTrace(result.stderr + result.stdout)).toBe(false)
  })

  it('refuses an output that is neither .json nor .npy', () => {
    const input = put('ok.wav', wavBytes({ samples: Array.from({ length: 1000 }, () => [0.1]) }))
    const result = phonoscope('features', input, '--out', join(dir, 'x.csv'))
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/x\.csv: output must end in \.json or \.npy/)
  })
})

describe('phonoscope features output', () => {
  it('writes the same matrix as .json and .npy, with 1 + floor((n - 256) / 128) frames', () => {
    const samples = Array.from({ length: 4000 }, (_, i) => [0.3 * Math.sin(i / 3)])
    const input = put('tone.wav', wavBytes({ samples }))
    expect(phonoscope('features', input, '--out', join(dir, 'f.json')).status).toBe(0)
    expect(phonoscope('features', input, '--out', join(dir, 'f.npy')).status).toBe(0)
    const json = JSON.parse(readFileSync(join(dir, 'f.json'), 'utf8')) as { shape: number[]; data: number[][] }
    const npy = readNpy(join(dir, 'f.npy'))
    const frames = 1 + Math.floor((4000 - 256) / 128)
    expect(json.shape).toEqual([frames, 64])
    expect(json.data).toHaveLength(frames)
    expect(npy.shape).toEqual([frames, 64])
    expect(Array.from(npy.data)).toEqual(json.data.flat().map((v) => Math.fround(v)))
  })

  const { available, dir: circor } = corpus()
  it.skipIf(!available)(
    'works on a FLAC of the shared corpus and on a WAV copy of it, with the same features',
    async () => {
      const flac = join(circor, 'audio', '13918_AV.flac')
      const wav = join(dir, '13918_AV.wav')
      const audio = await openAudio(flac)
      const writer = await WavWriter.create(wav, audio.info.sampleRate)
      for await (const chunk of audio.chunks) await writer.append(chunk)
      await writer.close()
      expect(phonoscope('features', flac, '--out', join(dir, 'flac.npy')).status).toBe(0)
      expect(phonoscope('features', wav, '--out', join(dir, 'wav.npy')).status).toBe(0)
      const fromFlac = readNpy(join(dir, 'flac.npy'))
      expect(fromFlac.shape).toEqual([1 + Math.floor((41152 - 256) / 128), 64]) // the manifest's frames column
      expect(readNpy(join(dir, 'wav.npy'))).toEqual(fromFlac)
    },
  )
})
