import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { AGGREGATIONS, aggregationLabel, FUSION_FEATURES } from '../../src/core/api/model-card'
import { InputError } from '../../src/core/errors'
import { loadModelCard } from '../../src/core/model/card'
import { OnnxModel } from '../../src/core/model/engine'
import { tinyModel } from './model-fixture'
import { problem } from '../helpers/errors'

let model: string
let card: Record<string, unknown>

/** A copy of the tiny model whose card is edited by `edit` (and optionally whose .onnx bytes are replaced). */
function variant(edit: (c: Record<string, unknown>) => void, onnx?: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'phonoscope-card-'))
  const path = join(dir, 'm.onnx')
  if (onnx) writeFileSync(path, onnx)
  else copyFileSync(model, path)
  const c = structuredClone(card)
  edit(c)
  writeFileSync(join(dir, 'm.json'), JSON.stringify(c))
  return path
}

/** A valid fusion rule: aggregation "fusion" with 3 x 9 weights over FUSION_FEATURES. */
const fused = () => ({
  aggregation: 'fusion',
  fusion: {
    features: FUSION_FEATURES,
    log_eps: 1e-6,
    weights: [0, 1, 2].map((k) => FUSION_FEATURES.map((_, i) => (i % 3 === k ? 1 : 0))),
    bias: [0, 0, 0],
  },
})

/** A valid calibration block for the tiny model's rule (max_murmur). */
const calibrated = () => ({
  method: 'temperature',
  recording: { temperature: 1.2 },
  patient: { temperature: 0.8, rule: 'max_murmur' },
})

beforeAll(() => {
  model = tinyModel()
  card = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.json'), 'utf8')) as Record<string, unknown>
}, 180_000)

describe('model card checks', () => {
  it('accepts the card the Python export writes', () => {
    const c = loadModelCard(model)
    expect(c.classes).toEqual(['normal', 'mild', 'moderate_severe'])
    expect(c.windowing.window_frames).toBe(936)
  })
  it('refuses a missing model, a missing card and a card that is not JSON', () => {
    expect(problem(() => loadModelCard('/nonexistent/x.onnx'))).toMatch(/model not found/)
    const dir = mkdtempSync(join(tmpdir(), 'phonoscope-card-'))
    copyFileSync(model, join(dir, 'lonely.onnx'))
    expect(problem(() => loadModelCard(join(dir, 'lonely.onnx')))).toMatch(/model card not found/)
    copyFileSync(model, join(dir, 'bad.onnx'))
    writeFileSync(join(dir, 'bad.json'), '{ nope')
    expect(problem(() => loadModelCard(join(dir, 'bad.onnx')))).toMatch(/not valid JSON/)
  })
  it('refuses classes, front ends, windowing and aggregation the code does not implement', () => {
    const cases: [(c: Record<string, unknown>) => void, RegExp][] = [
      [(c) => (c.classes = ['normal', 'murmur']), /classes .* not supported/],
      [(c) => ((c.frontend as Record<string, unknown>).window = 'hann'), /front end window="hann" is not supported/],
      [(c) => ((c.frontend as Record<string, unknown>).mel_scale = 'htk'), /mel_scale/],
      [(c) => ((c.frontend as Record<string, unknown>).fmax = 2500), /fmax 2500 Hz is above Nyquist/],
      [(c) => ((c.frontend as Record<string, unknown>).n_mels = 40.5), /positive integer hop and n_mels/],
      [(c) => ((c.frontend as Record<string, unknown>).fmin = 'low'), /fmin="low" must be a number/],
      [(c) => ((c.frontend as Record<string, unknown>).n_bands = 3), /fields n_bands are not known/],
      [
        (c) => ((c.frontend as Record<string, unknown>).window_frames = 500),
        /frontend.window_frames=500 is not windowing.window_frames=936/,
      ],
      [(c) => ((c.windowing as Record<string, unknown>).pad = 'zero'), /windowing.pad="zero" is not supported/],
      [(c) => ((c.windowing as Record<string, unknown>).hop_frames = 0), /hop_frames=0/],
      [(c) => (c.aggregation = 'vote'), /aggregation "vote" is not supported/],
      [(c) => (c.aggregation = 'fusion'), /needs a fusion block/],
      [(c) => Object.assign(c, fused(), { fusion: { ...fused().fusion, features: ['mean_p'] } }), /fusion.features/],
      [(c) => Object.assign(c, fused(), { fusion: { ...fused().fusion, log_eps: 0 } }), /log_eps=0/],
      [(c) => Object.assign(c, fused(), { fusion: { ...fused().fusion, weights: [[1, 2]] } }), /3 x 9 finite/],
      [(c) => Object.assign(c, fused(), { fusion: { ...fused().fusion, bias: [0, null, 0] } }), /fusion.bias/],
      [(c) => (c.calibration = { ...calibrated(), method: 'platt' }), /calibration must be .* "temperature"/],
      [(c) => (c.calibration = { ...calibrated(), recording: { temperature: 0 } }), /recording.temperature=0 must/],
      [(c) => (c.calibration = { ...calibrated(), patient: { rule: 'max_murmur' } }), /patient.temperature=undefined/],
      [
        (c) => (c.calibration = { ...calibrated(), patient: { temperature: -1, rule: 'max_murmur' } }),
        /patient.temperature=-1/,
      ],
      [
        (c) => (c.calibration = { ...calibrated(), patient: { temperature: 0.8, rule: 'fusion' } }),
        /calibration.patient.rule "fusion" is not the card's aggregation "max_murmur"/,
      ],
    ]
    for (const [edit, message] of cases) expect(problem(() => loadModelCard(variant(edit)))).toMatch(message)
  })
  it("accepts a card that still carries the windowing's window_frames in its front end, and drops it there", () => {
    const c = loadModelCard(variant((c) => ((c.frontend as Record<string, unknown>).window_frames = 936)))
    expect(c.frontend).not.toHaveProperty('window_frames')
    expect(c.windowing.window_frames).toBe(936)
  })
  it('accepts a calibration block with positive temperatures for its own rule', () => {
    const c = loadModelCard(variant((c) => (c.calibration = calibrated())))
    expect(c.calibration?.recording.temperature).toBe(1.2)
  })
  it('accepts a fitted site fusion', () => {
    expect(loadModelCard(variant((c) => Object.assign(c, fused()))).fusion?.weights).toHaveLength(3)
  })
  it('refuses an .onnx file whose sha256 differs from its card, and a file that is not ONNX', async () => {
    const other = variant(() => {}, Buffer.from('this is not an onnx model'))
    await expect(OnnxModel.load({ modelPath: other })).rejects.toThrow(/sha256 differs/)
    const notOnnx = variant((c) => delete (c.onnx as Record<string, unknown>).sha256, Buffer.from('not onnx at all'))
    await expect(OnnxModel.load({ modelPath: notOnnx })).rejects.toThrow(InputError)
    await expect(OnnxModel.load({ modelPath: notOnnx })).rejects.toThrow(/not a usable ONNX model/)
  })
  it('names every patient rule for the UI, and passes an unknown name of an older session through', () => {
    const labels = AGGREGATIONS.map(aggregationLabel)
    expect(new Set(labels).size).toBe(AGGREGATIONS.length)
    for (const [i, rule] of AGGREGATIONS.entries()) expect(labels[i]).not.toBe(rule)
    expect(aggregationLabel('vote')).toBe('vote')
  })
})
