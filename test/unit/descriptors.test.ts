import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { recordingDescriptors, windowDescriptors } from '../../src/core/analysis/descriptors'
import { descriptorLines } from '../../src/core/api/wording'
import type { DescriptorHead } from '../../src/core/api/model-card'
import { InputError } from '../../src/core/errors'
import { loadModelCard, sha256File } from '../../src/core/model/card'
import { OnnxModel } from '../../src/core/model/engine'
import { phonoscope } from '../helpers/cli'
import { corpus } from '../helpers/paths'
import { DESCRIPTOR_MODEL, runPython, SHIPPED_MODEL, shippedModelAvailable, tinyModel } from './model-fixture'

/** Every head, some with fewer labels than CirCor has (as training leaves rare ones out). */
const HEADS = {
  systolic_timing: ['early_systolic', 'mid_systolic', 'holosystolic'],
  systolic_shape: ['decrescendo', 'diamond', 'plateau'],
  systolic_pitch: ['low', 'medium', 'high'],
  systolic_quality: ['blowing', 'harsh'],
  diastolic: ['no', 'yes'],
  audible_here: ['no', 'yes'],
}
type Card = Record<string, unknown> & { heads: Record<string, unknown>[] }

let model: string
let plain: string
let card: Card
beforeAll(() => {
  model = tinyModel({ heads: HEADS })
  plain = tinyModel()
  card = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.json'), 'utf8')) as Card
}, 180_000)

/** A copy of `onnx` in a fresh folder with the heads card edited by `edit`; returns the .onnx path. */
function variant(edit: (c: Card) => void, onnx = model): string {
  const dir = mkdtempSync(join(tmpdir(), 'phonoscope-heads-'))
  const path = join(dir, 'm.onnx')
  copyFileSync(onnx, path)
  const c = structuredClone(card)
  edit(c)
  c.onnx = { ...(c.onnx as object), sha256: sha256File(path) }
  writeFileSync(join(dir, 'm.json'), JSON.stringify(c))
  return path
}

const cardError = (path: string): InputError | undefined => {
  try {
    loadModelCard(path)
  } catch (error) {
    return error as InputError
  }
  return undefined
}

describe('model card heads', () => {
  it('accepts the exported card with heads and loads the model, whose outputs carry every head', async () => {
    expect(loadModelCard(model).heads!.map((h) => h.name)).toEqual(Object.keys(HEADS))
    const m = await OnnxModel.load({ modelPath: model, provider: 'cpu', threads: 1 })
    try {
      const out = await m.infer({ batch: 2, frames: 100, nMels: 64, data: new Float32Array(2 * 100 * 64).fill(-6) })
      for (const [name, labels] of Object.entries(HEADS)) {
        const logProbs = out.headLogProbs![name]!
        expect(logProbs).toHaveLength(2 * labels.length)
        const first = Array.from(logProbs.subarray(0, labels.length), Math.exp)
        expect(first.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
      }
    } finally {
      await m.release()
    }
  })

  it.each<[string, (c: Card) => void, RegExp]>([
    [
      'an unknown head name',
      (c) => (c.heads[0]!.name = 'murmur_colour'),
      /heads\[0\]: "murmur_colour" is not a descriptor head/,
    ],
    [
      'a label the head does not have',
      (c) => (c.heads[0]!.labels = ['early_systolic', 'late_diastolic']),
      /head systolic_timing: labels \["late_diastolic"\] are not allowed/,
    ],
    [
      'a wrong output name',
      (c) => (c.heads[1]!.output = 'shape_log_probs'),
      /head systolic_shape: output "shape_log_probs" is not "systolic_shape_log_probs"/,
    ],
    ['a head listed twice', (c) => c.heads.push(c.heads[4]!), /head diastolic is listed twice/],
    ['one label', (c) => (c.heads[4]!.labels = ['yes']), /head diastolic: labels must be two or more distinct labels/],
    [
      'another recording rule',
      (c) => (c.heads[5]!.recording_rule = 'max'),
      /head audible_here: recording_rule="max" is not supported/,
    ],
    [
      'outputs that leave a head out',
      (c) => (c.outputs = (c.outputs as unknown[]).slice(0, 3)),
      /outputs .* are not .*"systolic_shape_log_probs"/,
    ],
  ])('rejects a card with %s, naming the card and the head', (_, edit, problem) => {
    const path = variant(edit)
    const error = cardError(path)
    expect(error).toBeInstanceOf(InputError)
    expect(error!.message).toMatch(problem)
    expect(error!.subject).toBe(path.replace(/\.onnx$/, '.json'))
  })

  it.each<[string, (c: Card) => void, string, RegExp]>([
    [
      'heads its graph lacks',
      () => {},
      'plain',
      /graph outputs \["log_probs","attention"\] are not .*systolic_timing_log_probs/,
    ],
    [
      'more labels than its graph gives',
      (c) => (c.heads[3]!.labels = ['blowing', 'harsh', 'musical']),
      'heads',
      /head systolic_quality: the graph gives 2 label\(s\), the card lists 3/,
    ],
    [
      'its heads in another order than the graph',
      (c) => {
        c.heads.reverse()
        delete c.outputs
      },
      'heads',
      /graph outputs .* are not \["log_probs","attention","audible_here_log_probs"/,
    ],
    [
      'no heads for a graph that has them',
      (c) => {
        delete (c as Record<string, unknown>).heads
        delete c.outputs
      },
      'heads',
      /graph outputs .*"systolic_timing_log_probs".* are not \["log_probs","attention"\]/,
    ],
  ])('the engine refuses a card with %s', async (_, edit, onnx, problem) => {
    const path = variant(edit, onnx === 'plain' ? plain : model)
    const load = OnnxModel.load({ modelPath: path, provider: 'cpu', threads: 1 })
    await expect(load).rejects.toThrow(InputError)
    await expect(load).rejects.toThrow(problem)
  })
})

describe('recording descriptors (the mean of the verdict windows, for a murmur verdict only)', () => {
  const heads = [
    { name: 'systolic_timing', output: 'systolic_timing_log_probs', labels: ['mid_systolic', 'holosystolic'] },
    { name: 'diastolic', output: 'diastolic_log_probs', labels: ['no', 'yes'] },
  ].map((h) => ({ ...h, recording_rule: 'mean', shown: 'murmur_verdict' }) as DescriptorHead)
  const window = (timing: number, diastolic: number) =>
    windowDescriptors(
      {
        systolic_timing: Float32Array.from([Math.log(1 - timing), Math.log(timing)]),
        diastolic: Float32Array.from([Math.log(1 - diastolic), Math.log(diastolic)]),
      },
      heads,
    )
  const windows = [window(0.9, 0.2), window(0.5, 0.4), window(0.7, 0.0001)]

  it('averages the windows per label, names the most probable label, and sums to 1 per head', () => {
    const d = recordingDescriptors('moderate_severe', windows, heads)!
    expect(Object.keys(d)).toEqual(['systolic_timing', 'diastolic'])
    expect(d.systolic_timing!.label).toBe('holosystolic')
    expect(d.systolic_timing!.probabilities.holosystolic).toBeCloseTo(0.7, 6)
    expect(d.diastolic!.label).toBe('no')
    expect(d.diastolic!.probabilities.yes).toBeCloseTo((0.2 + 0.4 + 0.0001) / 3, 6)
    for (const head of Object.values(d)) {
      expect(Object.values(head.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6)
    }
    expect(descriptorLines(d).map((line) => line.text)).toEqual([
      'Timing: holosystolic (70%)',
      'Diastolic murmur: no (80%)',
    ])
    expect(recordingDescriptors('mild', windows.slice(1, 2), heads)!.systolic_timing!.probabilities).toEqual({
      mid_systolic: expect.closeTo(0.5, 6),
      holosystolic: expect.closeTo(0.5, 6),
    })
  })

  it('gives none for a normal or withheld verdict, or a card without heads', () => {
    expect(recordingDescriptors('normal', windows, heads)).toBeUndefined()
    expect(recordingDescriptors(null, windows, heads)).toBeUndefined()
    expect(recordingDescriptors('mild', [undefined], undefined)).toBeUndefined()
    expect(windowDescriptors(undefined, undefined)).toBeUndefined()
  })

  it('fails loudly where the host returns no output for a head of the card', () => {
    expect(() => windowDescriptors({ systolic_timing: new Float32Array(2) }, heads)).toThrow(
      /lacks descriptor head diastolic/,
    )
  })
})

/**
 * The heads model with a constant added to its grade's logits (before log_probs' LogSoftmax), so that the untrained
 * model's verdict is the one a test needs; its heads are untouched. The card's sha256 is the edited graph's.
 */
function gradeBiased(bias: [number, number, number]): string {
  const dir = mkdtempSync(join(tmpdir(), 'phonoscope-biased-'))
  const path = join(dir, 'm.onnx')
  runPython(`
import onnx, numpy as np
from onnx import helper, numpy_helper
m = onnx.load(${JSON.stringify(model)})
node = next(n for n in m.graph.node if n.output[0] == "log_probs")
m.graph.initializer.append(numpy_helper.from_array(np.array(${JSON.stringify(bias)}, np.float32), "grade_bias"))
m.graph.node.insert(list(m.graph.node).index(node), helper.make_node("Add", [node.input[0], "grade_bias"], ["biased"]))
node.input[0] = "biased"
onnx.save(m, ${JSON.stringify(path)})
`)
  writeFileSync(
    join(dir, 'm.json'),
    JSON.stringify({ ...card, onnx: { ...(card.onnx as object), sha256: sha256File(path) } }),
  )
  return path
}

type Json = Record<string, unknown> & {
  verdict: string | null
  descriptors?: Record<string, { label: string; probabilities: Record<string, number> }>
}

describe('phonoscope classify: descriptors', () => {
  const { available, dir: circor } = corpus()
  const files = ['13918_MV', '14241_AV', '29045_TV'].map((f) => join(circor, 'audio', `${f}.flac`))
  const classify = (modelPath: string, ...args: string[]): Json[] => {
    const run = phonoscope('classify', ...files, '--model', modelPath, '--json', ...args)
    expect(run.status, run.stderr).toBe(0)
    return JSON.parse(run.stdout) as Json[]
  }

  it.skipIf(!available)('a murmur verdict is described by every head; a normal one is not', () => {
    const murmur = classify(gradeBiased([-20, 20, 0]))
    expect(murmur.map((r) => r.verdict)).toEqual(['mild', 'mild', 'mild'])
    for (const r of murmur) {
      expect(Object.keys(r.descriptors!)).toEqual(Object.keys(HEADS))
      for (const [name, d] of Object.entries(r.descriptors!)) {
        expect(Object.keys(d.probabilities)).toEqual(HEADS[name as keyof typeof HEADS])
        expect(Object.values(d.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
        expect(d.probabilities[d.label]).toBe(Math.max(...Object.values(d.probabilities)))
      }
    }
    const normal = classify(gradeBiased([20, -20, 0]))
    expect(normal.map((r) => r.verdict)).toEqual(['normal', 'normal', 'normal'])
    for (const r of normal) expect(r).not.toHaveProperty('descriptors')
  })

  it.skipIf(!available)('the table prints the descriptors in words under a murmur verdict only', () => {
    const table = (bias: [number, number, number]) => {
      const run = phonoscope('classify', files[0]!, '--model', gradeBiased(bias))
      expect(run.status, run.stderr).toBe(0)
      return run.stdout
    }
    // as the app and the report word them (api/wording.ts descriptorLines)
    expect(table([-20, 0, 20])).toMatch(
      /^ {2}Timing: (early systolic|mid-systolic|holosystolic) \(\d+%(, uncertain)?\); Shape: .*; Heard at this site: (no|yes) \(\d+%(, uncertain)?\)$/m,
    )
    expect(table([20, 0, -20])).not.toMatch(/Timing:/)
  })

  it.skipIf(!available)('the untrained heads model: descriptors exactly where the verdict is a murmur', () => {
    for (const r of classify(model)) {
      expect(r.descriptors !== undefined, `${String(r.file)}: ${r.verdict}`).toBe(
        r.verdict === 'mild' || r.verdict === 'moderate_severe',
      )
    }
  })

  it.skipIf(!available || !shippedModelAvailable())(
    'the shipped model (no heads) gives no descriptors, even for a murmur',
    () => {
      const loud = join(circor, 'audio', '40840_AV.flac') // label_recording moderate_severe
      const run = phonoscope('classify', loud, '--model', SHIPPED_MODEL, '--json')
      expect(run.status, run.stderr).toBe(0)
      const r = JSON.parse(run.stdout) as Json
      expect(r.verdict).toMatch(/^(mild|moderate_severe)$/)
      expect(r).not.toHaveProperty('descriptors')
    },
  )

  it.skipIf(!available || !existsSync(DESCRIPTOR_MODEL))(
    'the shipped descriptor model describes that murmur with every head of its card, and its int8 twin agrees',
    () => {
      const loud = join(circor, 'audio', '40840_AV.flac')
      const described = (path: string) => {
        const run = phonoscope('classify', loud, '--model', path, '--json')
        expect(run.status, run.stderr).toBe(0)
        return JSON.parse(run.stdout) as Json
      }
      const heads = loadModelCard(DESCRIPTOR_MODEL).heads!
      expect(heads.map((h) => h.name)).toEqual([
        'systolic_timing',
        'systolic_shape',
        'systolic_pitch',
        'systolic_quality',
        'audible_here',
      ])
      const fp32 = described(DESCRIPTOR_MODEL)
      const int8 = described(DESCRIPTOR_MODEL.replace(/\.onnx$/, '-int8.onnx'))
      expect(fp32.verdict).toMatch(/^(mild|moderate_severe)$/)
      for (const head of heads) {
        const d = fp32.descriptors![head.name]!
        expect(Object.keys(d.probabilities)).toEqual(head.labels)
        expect(Object.values(d.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
        for (const label of head.labels)
          expect(int8.descriptors![head.name]!.probabilities[label]).toBeCloseTo(d.probabilities[label]!, 1)
      }
    },
  )
})
