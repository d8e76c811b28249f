import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { hasStackTrace, phonoscope } from '../helpers/cli'
import { corpus, FIXTURES, scratch } from '../helpers/paths'
import { sine, wavBytes } from '../helpers/wav'
import { tinyModel } from './model-fixture'

const CLASSES = ['normal', 'mild', 'moderate_severe']
const { dir, put } = scratch('phonoscope-classify-')
let model: string
beforeAll(() => void (model = tinyModel()), 180_000)

const expectProbabilities = (p: Record<string, number>) => {
  expect(Object.keys(p).sort()).toEqual([...CLASSES].sort())
  expect(Object.values(p).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6)
}

describe('phonoscope classify --json', () => {
  it('gives file, duration, windows with probabilities/verdict/attention, recording verdict, model and provider', () => {
    const wav = put('tone.wav', wavBytes({ samples: sine(150, 3, 4000, 0.3) }))
    const run = phonoscope('classify', wav, '--model', model, '--json', '--provider', 'cuda')
    expect(run.status, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/provider cpu \(cuda failed to load: .*fell back to cpu\)/)
    const result = JSON.parse(run.stdout)
    const r = Array.isArray(result) ? result[0] : result
    expect(r.file).toBe(wav)
    expect(r.duration_s).toBe(3)
    expect(r.windows).toHaveLength(1)
    const w = r.windows[0]
    expect(w).toMatchObject({ start_s: 0, kind: 'whole', padded: false, start_frame: 0, end_frame: 92 })
    expect(w.end_s).toBeCloseTo((91 * 128 + 256) / 4000, 3)
    expectProbabilities(w.probabilities)
    // a 150 Hz sine is no heart sound: the gate withholds the verdict and says why
    expect(w.verdict).toBeNull()
    expect(w.quality).toMatchObject({ ok: false, reasons: expect.arrayContaining(['no_heart_cycles']) })
    expect(w.heart_rate_bpm).toBeNull()
    expect(w.attention.shape).toEqual([3, 5, 4])
    expect(w.attention.data[0].flat().reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4)
    expectProbabilities(r.probabilities)
    expect(r.verdict).toBeNull()
    expect(r).toMatchObject({ heart_rate_bpm: null, final: false, quality: { ok: false } })
    // withheld: no window made a verdict, so none is named and its attention is placed in no phase
    expect(r).toMatchObject({ verdict_windows: [], attention_phase: null, murmur_timing: null })
    expect(r.model).toMatchObject({ name: 'tiny-cnn', precision: 'fp32' })
    expect(r.model.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(r.provider).toBe('cpu')
  })

  it('marks wrap-padded short input, gives an array for several files, and writes the attention map', () => {
    const short = put('short.wav', wavBytes({ samples: sine(80, 1, 4000, 0.3) })) // 30 frames < min_frames 64
    const tone = join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav')
    const out = join(dir, 'att.json')
    const run = phonoscope('classify', short, tone, '--model', model, '--json', '--attention', out)
    expect(run.status, run.stderr).toBe(0)
    const results = JSON.parse(run.stdout)
    expect(results).toHaveLength(2)
    expect(results[0].windows[0]).toMatchObject({ kind: 'wrap_padded', padded: true, input_frames: 64, end_frame: 30 })
    const att = JSON.parse(readFileSync(join(dir, 'att-short.json'), 'utf8'))
    expect(att).toMatchObject({ frames: 30, n_mels: 64, verdict: results[0].verdict })
    expect(att.grid.normal).toHaveLength(30)
    expect(att.grid.normal[0]).toHaveLength(64)
    expect(existsSync(join(dir, 'att-tone-100hz-pcm16.json'))).toBe(true)
  })

  it('prints a table with a session verdict for several files', () => {
    const a = put('a.wav', wavBytes({ samples: sine(120, 2, 4000, 0.3) }))
    const b = put('b.wav', wavBytes({ samples: sine(300, 2, 4000, 0.3) }))
    const run = phonoscope('classify', a, b, '--model', model, '--attention', join(dir, 'x.png'))
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/recording\s+-\s+-\s+-\s+withheld: insufficient quality: .*, re-record/)
    expect(run.stdout).toMatch(/session \(0 recordings, 2 withheld, max_murmur\)\s+withheld/)
    expect(readFileSync(join(dir, 'x-a.png')).subarray(1, 4).toString()).toBe('PNG')
  })

  const { available, dir: circor } = corpus()
  it.skipIf(!available)('windows a long CirCor recording with the end-aligned last window', () => {
    const file = join(circor, 'audio', '49638_AV.flac') // 41.7 s, 1302 frames
    const windows = (extra: string[]) => {
      const run = phonoscope('classify', file, '--model', model, '--json', ...extra)
      expect(run.status, run.stderr).toBe(0)
      const r = JSON.parse(run.stdout)
      return (Array.isArray(r) ? r[0] : r).windows.map(
        (w: { start_frame: number; end_frame: number; kind: string }) => [w.start_frame, w.end_frame, w.kind],
      )
    }
    expect(windows([])).toEqual([
      [0, 936, 'full'],
      [366, 1302, 'last_aligned'],
    ])
    expect(windows(['--hop-frames', '300'])).toEqual([
      [0, 936, 'full'],
      [300, 1236, 'full'],
      [366, 1302, 'last_aligned'],
    ])
  })
})

describe('phonoscope classify: bad input is one line, exit 2, no stack trace', () => {
  const notOnnx = () => {
    const path = put('fake.onnx', 'definitely not onnx')
    copyFileSync(model.replace(/\.onnx$/, '.json'), join(dir, 'fake.json'))
    const card = JSON.parse(readFileSync(join(dir, 'fake.json'), 'utf8'))
    delete card.onnx.sha256
    writeFileSync(join(dir, 'fake.json'), JSON.stringify(card))
    return ['classify', join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav'), '--model', path]
  }
  const mismatched = () => {
    const path = join(dir, 'mismatch.onnx')
    copyFileSync(model, path)
    const card = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.json'), 'utf8'))
    card.frontend.window = 'hann'
    writeFileSync(join(dir, 'mismatch.json'), JSON.stringify(card))
    return ['classify', join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav'), '--model', path]
  }
  const cases: [string, () => string[], RegExp][] = [
    ['empty audio', () => ['classify', put('empty.wav', ''), '--model', model], /empty\.wav: .*empty/],
    ['text as .wav', () => ['classify', put('text.wav', 'not audio\n'.repeat(10)), '--model', model], /text\.wav: /],
    [
      'garbage FLAC',
      () => ['classify', put('g.flac', Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(100, 7)])), '--model', model],
      /g\.flac: /,
    ],
    ['missing audio', () => ['classify', join(dir, 'nope.wav'), '--model', model], /nope\.wav: .*not found/],
    [
      'too short for one frame',
      () => ['classify', join(FIXTURES, 'golden', 'shorter-than-frame.wav'), '--model', model],
      /too short/,
    ],
    [
      'missing model',
      () => ['classify', join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav'), '--model', join(dir, 'none.onnx')],
      /none\.onnx: model not found/,
    ],
    ['file that is not ONNX', notOnnx, /fake\.onnx: not a usable ONNX model/],
    ['card that does not match', mismatched, /mismatch\.json: front end window="hann" is not supported/],
    [
      'unknown provider',
      () => ['classify', join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav'), '--model', model, '--provider', 'tpu'],
      /--provider: unknown provider "tpu"/,
    ],
    [
      'unknown precision',
      () => ['classify', join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav'), '--model', model, '--precision', 'fp16'],
      /--precision: unknown precision "fp16" \(want auto, fp32, int8\)/,
    ],
    [
      'int8 of a model without a twin',
      () => ['classify', join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav'), '--model', model, '--precision', 'int8'],
      /has no int8 twin/,
    ],
    [
      'bad hop',
      () => ['classify', join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav'), '--model', model, '--hop-frames', '0'],
      /--hop-frames: must be a positive integer/,
    ],
  ]
  it.each(cases)('%s', (_, args, message) => {
    const run = phonoscope(...args())
    expect(run.status, run.stderr).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(
      run.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('phonoscope: ') && !l.startsWith('phonoscope: model ')),
    ).toHaveLength(1)
    expect(hasStackTrace(run.stderr + run.stdout)).toBe(false)
  })
})
