import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, symlinkSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { constantFlac } from '../../src/cli/commands/bench-decode'
import { verdictOf } from '../../src/core/analysis/aggregate'
import { openAudio } from '../../src/core/audio/decode'
import { MAX_CHUNK_FRAMES } from '../../src/core/audio/flac'
import { resampleStream } from '../../src/core/audio/resample'
import { openWav } from '../../src/core/audio/wav'
import { computeFeatures } from '../../src/core/dsp/features'
import { InputError } from '../../src/core/errors'
import { BrowserSource } from '../../src/core/live/browser-source'
import { collect } from '../helpers/audio'
import { hasStackTrace, phonoscope } from '../helpers/cli'
import { REPO_ROOT, scratch } from '../helpers/paths'
import { sine, wavBytes } from '../helpers/wav'
import { tinyModel } from './model-fixture'

const { dir, put } = scratch('phonoscope-limits-')
chmodSync(dir, 0o755) // the permission test reads it as another user

/** A 32-bit float mono WAV of `samples`. */
function floatWav(samples: number[], sampleRate = 4000): Buffer {
  const header = wavBytes({ samples: [], sampleRate, bits: 32, format: 3, channels: 1 })
  const data = Buffer.alloc(samples.length * 4)
  samples.forEach((v, i) => data.writeFloatLE(v, i * 4))
  header.writeUInt32LE(header.length - 8 + data.length, 4)
  header.writeUInt32LE(data.length, header.length - 4)
  return Buffer.concat([header, data])
}

/** 3 s of a 150 Hz tone with 12 NaN/Inf samples from 1.5 s. */
const poisoned = () => {
  const tone = sine(150, 3, 4000, 0.3).map(([v]) => v!)
  for (let i = 0; i < 12; i++) tone[6000 + i] = i % 2 ? Infinity : NaN
  return put('poisoned.wav', floatWav(tone))
}

const inputError = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InputError)
  return (error as Error).message
}

/** A 16-bit mono file made by sox: a 150 Hz tone of `seconds`, or what `effects` make of nothing. */
const soxFile = (name: string, rate: number, seconds: number, effects = ['synth', String(seconds), 'sine', '150']) => {
  const path = join(dir, name)
  execFileSync('sox', ['-n', '-r', String(rate), '-b', '16', '-c', '1', path, ...effects])
  return path
}

let model: string
beforeAll(() => void (model = tinyModel()), 180_000)

describe('non-finite samples', () => {
  it('a float WAV with NaN/Inf is refused on open, naming the file, the count and where', async () => {
    const file = poisoned()
    expect(await inputError(openAudio(file))).toBe(`${file}: 12 non-finite samples (NaN/Inf) from 1.5 s`)
  })

  it('features, classify and record --file exit 2 with one line', () => {
    const file = poisoned()
    for (const args of [
      ['features', file, '--out', join(dir, 'f.json')],
      ['classify', file, '--model', model],
      ['record', '--file', file, '--model', model, '--out', join(dir, 'sessions'), '--seconds', '20'],
    ]) {
      const run = phonoscope(...args)
      expect(run.status, `${args[0]}: ${run.stdout}${run.stderr}`).toBe(2)
      const lines = run.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('phonoscope: model ') && !l.includes('session '))
      expect(lines).toEqual([`phonoscope: ${file}: 12 non-finite samples (NaN/Inf) from 1.5 s`])
      expect(run.stdout).not.toMatch(/normal|Normal/)
      expect(hasStackTrace(run.stderr)).toBe(false)
    }
  }, 120_000)

  it('browser frames: non-finite samples are dropped, counted and reported', async () => {
    const source = new BrowserSource(100)
    expect(() => source.push(Float32Array.of(0.1, NaN, 0.2))).toThrow(InputError)
    expect(() => source.push(Float32Array.of(Infinity, 0.3, -Infinity))).not.toThrow() // reported at most once a second
    expect(source.dropped).toBe(3)
    source.stop()
    expect(Array.from(await collect(source.chunks()))).toEqual([Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)])
    const fresh = new BrowserSource(100)
    expect(() => fresh.push(Float32Array.of(NaN))).toThrow(
      'browser microphone: 1 non-finite samples (NaN/Inf) dropped so far',
    )
  })

  it('no verdict from probabilities that are not finite', () => {
    expect(() => verdictOf([NaN, NaN, NaN])).toThrow(/not finite/)
    expect(() => verdictOf([0.2, Infinity, 0.1])).toThrow(/not finite/)
    expect(verdictOf([0.2, 0.7, 0.1])).toBe('mild')
  })
})

describe('sample rates', () => {
  it('352.8 and 384 kHz files give the same features as the tone at 44.1 kHz', async () => {
    const reference = await computeFeatures(soxFile('t44100.wav', 44100, 3))
    for (const rate of [352800, 384000]) {
      const features = await computeFeatures(soxFile(`t${rate}.flac`, rate, 3))
      expect(features.frames).toBe(reference.frames)
      let worst = 0
      for (let i = 0; i < features.data.length; i++)
        worst = Math.max(worst, Math.abs(features.data[i]! - reference.data[i]!))
      expect(worst, `${rate} Hz`).toBeLessThan(0.05)
    }
  }, 60_000)

  it('an 11025 Hz FLAC of 2 min of silence (over a million samples in one read) decodes', async () => {
    const features = await computeFeatures(soxFile('s11025.flac', 11025, 120, ['trim', '0', '120']))
    expect(features.frames).toBe(Math.floor((120 * 4000 - 256) / 128) + 1)
  }, 60_000)

  it('the resampler takes one chunk of any length (libsamplerate-js split long ones at fractional offsets)', async () => {
    const n = 1_500_000
    const chunk = Float64Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 150 * i) / 11025))
    const out = await collect(
      resampleStream(
        (async function* () {
          yield chunk
        })(),
        11025,
        4000,
      ),
    )
    expect(out.length).toBe(Math.ceil((n * 4000) / 11025))
    expect(Math.max(...out.subarray(1000, 5000))).toBeCloseTo(0.3, 2)
  }, 60_000)

  it('a rate too far from 4 kHz to resample is an input error', async () => {
    const file = put('2hz.wav', wavBytes({ samples: sine(0.5, 20, 2), sampleRate: 2 }))
    expect(await inputError(computeFeatures(file))).toBe('sample rate 2 Hz: cannot be resampled to 4000 Hz')
  })
})

describe('files that are not plain readable files', () => {
  it('a symbolic link loop, a FIFO and /dev/zero are refused clearly', async () => {
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'))
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'))
    execFileSync('mkfifo', [join(dir, 'fifo')])
    expect(await inputError(openAudio(join(dir, 'loop-a')))).toMatch(/loop-a: too many symbolic links$/)
    expect(await inputError(openAudio(join(dir, 'fifo')))).toMatch(/fifo: not a regular file$/)
    expect(await inputError(openAudio('/dev/zero'))).toBe('/dev/zero: not a regular file')
  })

  it('a file its reader may not open is "permission denied"', () => {
    // root reads any file: as root the check runs as nobody (setpriv), which stat()s the file but cannot open it
    const file = put('locked.wav', wavBytes({ samples: sine(100, 1, 4000) }))
    chmodSync(file, 0)
    const probe = `import('${join(REPO_ROOT, 'src/core/audio/decode.ts')}').then((m) => m.openAudio('${file}')).then(() => console.log('opened'), (e) => console.log(e.name + ' ' + e.message))`
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx')
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []
    const run = spawnSync(asNobody[0] ?? tsx, [...asNobody.slice(1), ...(asNobody.length ? [tsx] : []), '-e', probe], {
      encoding: 'utf8',
      env: { ...process.env, HOME: dir },
    })
    expect(run.stdout.trim(), run.stderr).toBe(`InputError ${file}: permission denied`)
  }, 60_000)
})

describe('work bounded by the file, not its contents', () => {
  it('a WAV with a million empty chunks before its audio is walked in a few reads', async () => {
    const wav = wavBytes({ samples: sine(100, 1, 4000) })
    const empty = Buffer.alloc(8 * 1_000_000)
    for (let at = 0; at < empty.length; at += 8) empty.write('junk', at, 'latin1')
    const file = put('chunky.wav', Buffer.concat([wav.subarray(0, 12), empty, wav.subarray(12)]))
    const handle = await open(file, 'r')
    let reads = 0
    const counting = new Proxy(handle, {
      get: (target, key) =>
        key === 'read'
          ? (...args: Parameters<typeof handle.read>) => (reads++, target.read(...args))
          : Reflect.get(target, key).bind(target),
    })
    const audio = await openWav(counting, file, empty.length + wav.length)
    expect(audio.info.frames).toBe(4000)
    expect(reads).toBeLessThan(200) // 8 MB of headers in 64 KB windows; one read per chunk was a million
    await collect(audio.chunks)
  })

  it('a 43 KB FLAC of constant frames (74 min) decodes in bounded chunks', async () => {
    const file = put('constant.flac', constantFlac({ sampleRate: 44100, frames: 3000, blockSize: 65535, value: 1000 }))
    const audio = await openAudio(file)
    let longest = 0
    let total = 0
    for await (const chunk of audio.chunks) {
      longest = Math.max(longest, chunk.length)
      total += chunk.length
    }
    expect(total).toBe(3000 * 65535)
    expect(longest).toBeLessThan(MAX_CHUNK_FRAMES + 65535)
  }, 60_000)
})

describe('classify with several files', () => {
  it('reports each bad file on one line and classifies the others', () => {
    const good = put('good.wav', wavBytes({ samples: sine(150, 3, 4000, 0.3) }))
    const high = soxFile('t384000-cli.flac', 384000, 3)
    const loop = join(dir, 'self-loop')
    symlinkSync(loop, loop)
    const bad = poisoned()
    const run = phonoscope('classify', good, loop, high, bad, '--model', model, '--json')
    expect(run.status, run.stderr).toBe(2)
    expect(JSON.parse(run.stdout).map((r: { file: string }) => r.file)).toEqual([good, high])
    expect(run.stderr).toContain(`phonoscope: ${loop}: too many symbolic links\n`)
    expect(run.stderr).toContain(`phonoscope: ${bad}: 12 non-finite samples (NaN/Inf) from 1.5 s\n`)
    expect(hasStackTrace(run.stderr)).toBe(false)
  }, 120_000)
})
