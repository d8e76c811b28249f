import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { INT8_GATE, twinPassesGate, type Int8Twin } from '../../src/core/api/model-card'
import { loadModelCard, sha256File } from '../../src/core/model/card'
import { OnnxModel } from '../../src/core/model/engine'
import { choosePrecision } from '../../src/core/model/precision'
import { scratch } from '../helpers/paths'
import { SHIPPED_MODEL, shippedModelAvailable, tinyModel } from './model-fixture'
import { problem } from '../helpers/errors'

let tiny: string
let tinyCard: Record<string, unknown>

beforeAll(() => {
  tiny = tinyModel()
  tinyCard = JSON.parse(readFileSync(tiny.replace(/\.onnx$/, '.json'), 'utf8')) as Record<string, unknown>
}, 180_000)

/** Figures that pass INT8_GATE by a margin, or miss it where `edit` says. */
const cv = (edit: Partial<Int8Twin['cv']> = {}): Int8Twin['cv'] => ({
  run: 'test-run',
  patient_uar: { fp32: 0.8, int8: 0.8 - INT8_GATE.max_patient_uar_loss / 2 },
  recording_agreement: INT8_GATE.min_recording_agreement + 0.005,
  ...edit,
})

/**
 * The tiny model as m.onnx with a twin m-int8.onnx beside it (the same graph, its card marked as an int8 export) and
 * the fp32 card naming it with `figures`; `twin: false` leaves the twin's file out.
 */
function pair(figures: Int8Twin['cv'] = cv(), { twin = true, sha256 = '' } = {}): string {
  const { dir } = scratch('phonoscope-precision-')
  const model = join(dir, 'm.onnx')
  copyFileSync(tiny, model)
  const hash = sha256File(model)
  const spec: Int8Twin = { file: 'm-int8.onnx', sha256: sha256 || hash, cv: figures }
  writeFileSync(join(dir, 'm.json'), JSON.stringify({ ...tinyCard, name: 'm', int8_twin: spec }))
  if (twin) {
    copyFileSync(tiny, join(dir, 'm-int8.onnx'))
    const onnx = { ...(tinyCard.onnx as object), sha256: hash, quantization: 'static QDQ int8 (test)' }
    writeFileSync(join(dir, 'm-int8.json'), JSON.stringify({ ...tinyCard, name: 'm-int8', onnx }))
  }
  return model
}

describe('which file runs: fp32 or the int8 twin', () => {
  it('auto runs the twin on cpu when its CV figures pass the gate, fp32 on a GPU provider', () => {
    const choose = choosePrecision(pair())
    const cpu = choose('cpu')
    expect(cpu.file.path).toMatch(/m-int8\.onnx$/)
    expect(cpu.file.precision).toBe('int8')
    expect(cpu.file.card.name).toBe('m-int8')
    expect(cpu.note).toMatch(
      /^int8, the cpu default \(CV test-run: patient UAR 0\.798 vs 0\.800, 99\.5 % of recordings agree/,
    )
    for (const gpu of ['cuda', 'dml', 'coreml'] as const) {
      expect(choose(gpu).file.path).toMatch(/[/\\]m\.onnx$/)
      expect(choose(gpu).file.precision).toBe('fp32')
    }
  })

  it('keeps fp32 on cpu when the twin loses more UAR or agrees less than the gate allows, and says why', () => {
    const lossy = cv({ patient_uar: { fp32: 0.8, int8: 0.8 - 2 * INT8_GATE.max_patient_uar_loss } })
    const disagreeing = cv({ recording_agreement: INT8_GATE.min_recording_agreement - 0.01 })
    for (const figures of [lossy, disagreeing]) {
      const cpu = choosePrecision(pair(figures))('cpu')
      expect(cpu.file.precision).toBe('fp32')
      expect(cpu.note).toMatch(/^fp32 \(its int8 twin misses the gate of 0\.005 UAR, 99\.0 % agreement: CV test-run/)
    }
  })

  it('fp32 is a request away; int8 on request runs the twin on any provider', () => {
    expect(choosePrecision(pair(), 'fp32')('cpu').file.path).toMatch(/[/\\]m\.onnx$/)
    const lossy = cv({ recording_agreement: 0.5 })
    expect(choosePrecision(pair(lossy), 'int8')('cuda').file.path).toMatch(/m-int8\.onnx$/)
  })

  it('a card without a twin, or a twin not installed, runs fp32 under auto; int8 then refuses', () => {
    expect(choosePrecision(tiny)('cpu')).toMatchObject({ file: { path: tiny, precision: 'fp32' }, note: 'fp32' })
    const missing = pair(cv(), { twin: false })
    expect(choosePrecision(missing)('cpu').note).toBe('fp32 (its int8 twin m-int8.onnx is not installed)')
    expect(problem(() => choosePrecision(missing, 'int8'))).toMatch(/its int8 twin m-int8\.onnx is not installed/)
    expect(problem(() => choosePrecision(tiny, 'int8'))).toMatch(/has no int8 twin/)
  })

  it('refuses a twin whose hash is not the one the fp32 card names, and fp32 of an int8 file', () => {
    const other = pair(cv(), { sha256: 'a'.repeat(64) })
    expect(problem(() => choosePrecision(other))).toMatch(/m-int8\.onnx: is not the int8 twin m\.onnx's card names/)
    const twinFile = pair().replace(/m\.onnx$/, 'm-int8.onnx')
    expect(choosePrecision(twinFile)('cpu').note).toBe('int8 (the model file given)')
    expect(problem(() => choosePrecision(twinFile, 'fp32'))).toMatch(/is an int8 export: pass its fp32 model/)
  })

  it('a card may name its twin only as a file beside it, with a hash and figures in [0, 1]', () => {
    const card = (twin: unknown) => {
      const { put } = scratch('phonoscope-twin-card-')
      const model = put('m.onnx', readFileSync(tiny))
      put('m.json', JSON.stringify({ ...tinyCard, int8_twin: twin }))
      return () => loadModelCard(model)
    }
    const good = { file: 'm-int8.onnx', sha256: 'b'.repeat(64), cv: cv() }
    expect(card(good)().int8_twin).toEqual(good)
    for (const file of ['../m-int8.onnx', '/tmp/m-int8.onnx', 'sub/m-int8.onnx', '.hidden.onnx', 'm-int8.bin']) {
      expect(problem(card({ ...good, file }))).toMatch(/int8_twin\.file=.* must be a file name beside the card/)
    }
    expect(problem(card({ ...good, sha256: 'xyz' }))).toMatch(/int8_twin\.sha256 must be 64 lowercase hex/)
    expect(problem(card({ ...good, cv: cv({ recording_agreement: 1.5 }) }))).toMatch(/int8_twin\.cv must name/)
    expect(problem(card({ ...good, cv: { ...cv(), run: undefined } }))).toMatch(/int8_twin\.cv must name/)
  })

  it('the loaded model says which file, precision and why, and its card is the file that runs', async () => {
    const model = await OnnxModel.load({ modelPath: pair(), provider: 'cpu', threads: 1 })
    try {
      expect(model.info.path).toMatch(/m-int8\.onnx$/)
      expect(model.info).toMatchObject({ name: 'm-int8', precision: 'int8', provider: 'cpu' })
      expect(model.info.precisionNote).toMatch(/^int8, the cpu default/)
    } finally {
      await model.release()
    }
  })
  it.skipIf(!shippedModelAvailable())('the shipped model names its int8 twin, with figures that pass the gate', () => {
    const choice = choosePrecision(SHIPPED_MODEL)('cpu')
    expect(choice.file.precision).toBe('int8')
    expect(choice.file.card.name).toBe(`${loadModelCard(SHIPPED_MODEL).name}-int8`)
    expect(choosePrecision(SHIPPED_MODEL)('cuda').file.path).toBe(SHIPPED_MODEL)
    const twin = loadModelCard(SHIPPED_MODEL).int8_twin!
    expect(twinPassesGate(twin)).toBe(true)
    expect(twin.cv.recording_agreement).toBeGreaterThanOrEqual(INT8_GATE.min_recording_agreement)
  })
})
