import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseCsv } from '../../src/core/analysis/manifest'
import { hasStackTrace, phonoscope } from '../helpers/cli'
import { corpus, FIXTURES, scratch } from '../helpers/paths'
import { sine, wavBytes } from '../helpers/wav'
import { pythonOnnxEval, SHIPPED_MODEL, shippedModelAvailable, tinyModel } from './model-fixture'

const { dir, put } = scratch('phonoscope-evaluate-')
let model: string
beforeAll(() => void (model = tinyModel()), 180_000)

describe('manifest CSV', () => {
  it('parses quoted fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,b\r\n"x,1","say ""hi"""\n"multi\nline",\n')).toEqual([
      ['a', 'b'],
      ['x,1', 'say "hi"'],
      ['multi\nline', ''],
    ])
  })
})

describe('phonoscope evaluate', () => {
  it('carries on past bad rows, counts skipped and failed, and reports both levels', () => {
    put('a.wav', wavBytes({ samples: sine(120, 3, 4000, 0.3) }))
    put('b.wav', wavBytes({ samples: sine(300, 4, 4000, 0.3) }))
    put('c.wav', wavBytes({ samples: sine(500, 2, 4000, 0.3) }))
    put('broken.wav', 'not audio at all\n'.repeat(5))
    const manifest = put(
      'm.csv',
      [
        'file,patient_id,label_patient,extra',
        'a.wav,p1,normal,"x,y"',
        'b.wav,p1,normal,',
        'c.wav,p2,mild,',
        'broken.wav,p3,moderate_severe,',
        'missing.wav,p3,moderate_severe,',
        'a.wav,p4,unknown,',
        `${join(FIXTURES, 'golden', 'tone-100hz-pcm16.wav')},p5,moderate_severe,`,
      ].join('\n') + '\n',
    )
    // tones and sines: the model's figures alone, without the quality gate that would withhold them all
    const run = phonoscope('evaluate', '--manifest', manifest, '--model', model, '--json', '--no-quality-gate')
    expect(run.status, run.stderr).toBe(0)
    expect(hasStackTrace(run.stderr)).toBe(false)
    const r = JSON.parse(run.stdout)
    expect(r).toMatchObject({ n_recordings: 4, n_patients: 3, skipped: 1, failed: 2, provider: 'cpu' })
    expect(r.failed_rows.map((f: { line: number }) => f.line)).toEqual([5, 6])
    expect(r.failed_rows[0].reason).toMatch(/broken\.wav: /)
    expect(r.failed_rows[1].reason).toMatch(/missing\.wav: file not found/)
    for (const level of [r.recording, r.patient]) {
      expect(Object.keys(level)).toEqual(expect.arrayContaining(['uar', 'recall', 'precision', 'confusion', 'auc']))
      expect(Object.keys(level.recall)).toEqual(['normal', 'mild', 'moderate_severe'])
      expect(level.confusion).toHaveLength(3)
    }
    expect(r.recording.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(4)
    expect(r.patient.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(3)
    expect(run.stderr).toMatch(/row 5 failed: /)
  })

  const cases: [string, () => string[], RegExp][] = [
    ['missing manifest', () => ['--manifest', join(dir, 'none.csv')], /none\.csv: manifest not found/],
    [
      'missing columns',
      () => ['--manifest', put('cols.csv', 'path,label\nx.wav,normal\n')],
      /cols\.csv: manifest lacks column\(s\) patient_id, label_patient/,
    ],
    [
      'no usable label',
      () => ['--manifest', put('unk.csv', 'path,patient_id,label_patient\nx.wav,1,unknown\n')],
      /no row has a label/,
    ],
    [
      'every row fails',
      () => ['--manifest', put('allbad.csv', 'path,patient_id,label_patient\nnope.wav,1,normal\n')],
      /no row could be evaluated \(1 failed; first: .*nope\.wav: file not found\)/,
    ],
    [
      'missing root',
      () => ['--manifest', put('r.csv', 'path,patient_id,label_patient\nx.wav,1,normal\n'), '--root', join(dir, 'no')],
      /manifest root folder not found/,
    ],
  ]
  it.each(cases)('bad input, exit 2: %s', (_, args, message) => {
    const run = phonoscope('evaluate', ...args(), '--model', model)
    expect(run.status, run.stderr).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(hasStackTrace(run.stderr + run.stdout)).toBe(false)
  })
})

/**
 * The TypeScript pipeline (decode + front end + onnxruntime-node + windowing + aggregation + metrics) against the
 * Python reference (librosa front end + onnxruntime + data.inference_windows + metrics.py) on the same rows of the
 * CirCor manifest, with the same ONNX model: the shipped one when it exists, else the tiny test model.
 */
describe('evaluate parity with the Python evaluation of the same ONNX model', () => {
  const { available, dir: circor } = corpus()
  it.skipIf(!available)(
    'same UAR, confusion and AUC at both levels; probabilities within 1e-4',
    () => {
      const onnx = shippedModelAvailable() ? SHIPPED_MODEL : model
      const rows = parseCsv(readFileSync(join(circor, 'manifest.csv'), 'utf8'))
      const [header, ...body] = rows
      const label = header!.indexOf('label_patient')
      const pick = (cls: string, n: number) => body.filter((r) => r[label] === cls).slice(0, n)
      // 60 rows: every 7th of each class, including "unknown" rows that both sides must skip
      const every = (cls: string, n: number) =>
        body
          .filter((r) => r[label] === cls)
          .filter((_, i) => i % 7 === 0)
          .slice(0, n)
      const subset = [
        ...every('normal', 22),
        ...every('mild', 16),
        ...every('moderate_severe', 16),
        ...pick('unknown', 6),
      ]
      const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
      const manifest = put('subset.csv', [header!, ...subset].map((r) => r.map(quote).join(',')).join('\n') + '\n')

      const run = phonoscope(
        'evaluate',
        '--manifest',
        manifest,
        '--root',
        circor,
        '--model',
        onnx,
        '--json',
        '--no-quality-gate',
        '--recordings',
      )
      expect(run.status, run.stderr).toBe(0)
      const ts = JSON.parse(run.stdout)
      const py = pythonOnnxEval([
        'eval',
        '--model',
        ts.model.path,
        '--manifest',
        manifest,
        '--root',
        circor,
      ]) as typeof ts

      for (const key of ['n_recordings', 'n_patients', 'skipped', 'failed']) expect(ts[key], key).toBe(py[key])
      expect(ts.n_recordings).toBe(54)
      expect(ts.skipped).toBe(6)
      for (const level of ['recording', 'patient']) {
        expect(ts[level].confusion, level).toEqual(py[level].confusion)
        expect(ts[level].uar, level).toBeCloseTo(py[level].uar, 12)
        for (const c of ['normal', 'mild', 'moderate_severe']) {
          expect(ts[level].auc[c], `${level} auc ${c}`).toBeCloseTo(py[level].auc[c], 3)
          expect(ts[level].recall[c]).toEqual(py[level].recall[c])
        }
      }
      let worst = 0
      ts.recordings.forEach((r: { file: string; probabilities: Record<string, number> }, i: number) => {
        expect(r.file).toBe(py.recordings[i].file)
        for (const c of Object.keys(r.probabilities)) {
          worst = Math.max(worst, Math.abs(r.probabilities[c]! - py.recordings[i].probabilities[c]))
        }
      })
      expect(worst).toBeLessThan(1e-4)
    },
    300_000,
  )
})
