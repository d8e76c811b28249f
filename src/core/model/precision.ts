import { existsSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { ProviderName } from '../api/inference'
import {
  INT8_GATE,
  precisionOf,
  twinPassesGate,
  type Int8Twin,
  type ModelCard,
  type Precision,
  type PrecisionRequest,
} from '../api/model-card'
import { InputError } from '../errors'
import { loadModelCard, sha256File } from './card'

/** One ONNX file a session may open, with its checked card. */
export interface ModelFile {
  path: string
  card: ModelCard
  sha256: string
  precision: Precision
}

/** Which file runs on a provider, and the line that says why. */
export interface PrecisionChoice {
  file: ModelFile
  note: string
}

/** Reads a model's card and checks that the .onnx is the export it describes. */
export function readModelFile(path: string): ModelFile {
  const card = loadModelCard(path)
  const sha256 = sha256File(path)
  if (card.onnx?.sha256 && card.onnx.sha256 !== sha256) {
    throw new InputError(
      path,
      'does not match its model card (sha256 differs: the .onnx and .json are from different exports)',
    )
  }
  return { path, card, sha256, precision: precisionOf(card) }
}

/** The twin a card names, read and checked against the hash the fp32 card gives; undefined when it is not there. */
function readTwin(model: ModelFile, twin: Int8Twin): ModelFile | undefined {
  const path = join(dirname(model.path), twin.file)
  if (!existsSync(path)) return undefined
  const file = readModelFile(path)
  if (file.sha256 !== twin.sha256 || file.precision !== 'int8') {
    throw new InputError(
      path,
      `is not the int8 twin ${basename(model.path)}'s card names (sha256 or precision differs)`,
    )
  }
  return file
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`

/** The CV figures behind a twin, in one line. */
const evidence = ({ cv }: Int8Twin): string =>
  `CV ${cv.run}: patient UAR ${cv.patient_uar.int8.toFixed(3)} vs ${cv.patient_uar.fp32.toFixed(3)}, ` +
  `${pct(cv.recording_agreement)} of recordings agree`

/**
 * Which file each provider runs for a precision request. fp32: the model itself. int8: its int8 twin (or the model,
 * when it is an int8 export). auto: on cpu the twin when the card names one whose cross-validated figures pass
 * INT8_GATE (within half a point of patient UAR, 99 % of recording verdicts the same), else the model; GPU providers
 * run fp32, where int8 saves nothing.
 */
export function choosePrecision(
  modelPath: string,
  request: PrecisionRequest = 'auto',
): (provider: ProviderName) => PrecisionChoice {
  const model = readModelFile(modelPath)
  const spec = model.card.int8_twin
  const fixed = (file: ModelFile, note: string) => () => ({ file, note })
  if (model.precision === 'int8') {
    if (request === 'fp32') throw new InputError(modelPath, 'is an int8 export: pass its fp32 model for fp32')
    return fixed(model, 'int8 (the model file given)')
  }
  if (request === 'fp32' || (request === 'auto' && !spec)) return fixed(model, 'fp32')
  const twin = spec && readTwin(model, spec)
  if (request === 'int8') {
    if (!twin)
      throw new InputError(modelPath, spec ? `its int8 twin ${spec.file} is not installed` : 'has no int8 twin')
    return fixed(twin, `int8 (${evidence(spec!)})`)
  }
  const passes = twinPassesGate(spec!)
  return (provider) => {
    if (provider !== 'cpu') return { file: model, note: 'fp32 (int8 is for cpu)' }
    if (!twin) return { file: model, note: `fp32 (its int8 twin ${spec!.file} is not installed)` }
    if (!passes) {
      const gate = `${INT8_GATE.max_patient_uar_loss} UAR, ${pct(INT8_GATE.min_recording_agreement)} agreement`
      return { file: model, note: `fp32 (its int8 twin misses the gate of ${gate}: ${evidence(spec!)})` }
    }
    return { file: twin, note: `int8, the cpu default (${evidence(spec!)}; --precision fp32 for the full model)` }
  }
}
