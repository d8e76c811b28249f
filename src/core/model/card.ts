import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { CLASSES } from '../api/classes'
import { sha256Of } from '../audio/lossless'
import {
  AGGREGATIONS,
  DESCRIPTOR_HEADS,
  FUSION_FEATURES,
  headOutput,
  type Calibration,
  type DescriptorHead,
  type FrontendParams,
  type Int8Twin,
  type ModelCard,
  type SiteFusion,
  type Windowing,
} from '../api/model-card'
import { checkFrontend } from '../dsp/params'
import { InputError } from '../errors'
import { appRoot } from '../paths'

/** The shipped model: models/phonoscope-cnn-att.onnx (PHONOSCOPE_MODEL overrides). */
export const defaultModelPath = (): string =>
  process.env.PHONOSCOPE_MODEL ?? join(appRoot(), 'models', 'phonoscope-cnn-att.onnx')

/** models/x.onnx -> models/x.json */
export const cardPathFor = (modelPath: string): string =>
  join(dirname(modelPath), `${basename(modelPath, '.onnx')}.json`)

export const sha256File = (path: string): string => sha256Of(readFileSync(path))

const WINDOWING_RULES = {
  short_input: 'as_is',
  pad: 'wrap',
  last_window: 'align_end',
  recording_rule: 'mean',
} as const

/**
 * Reads and checks the model card beside an ONNX file: classes, front end (checkFrontend), windowing and aggregation
 * must be what this code implements, else an InputError naming the card and the field.
 */
export function loadModelCard(modelPath: string): ModelCard {
  if (!existsSync(modelPath)) {
    const hint = modelPath === defaultModelPath() ? ' (the default model is not installed: pass --model PATH)' : ''
    throw new InputError(modelPath, `model not found${hint}`)
  }
  const cardPath = cardPathFor(modelPath)
  if (!existsSync(cardPath)) throw new InputError(cardPath, 'model card not found (expected beside the .onnx file)')
  let card: ModelCard
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard
  } catch (error) {
    throw new InputError(cardPath, `model card is not valid JSON (${(error as Error).message.split('\n')[0]})`)
  }
  return checkCard(card, cardPath)
}

export function checkCard(card: ModelCard, subject: string): ModelCard {
  if (typeof card !== 'object' || card === null) throw new InputError(subject, 'model card is not a JSON object')
  if (!Array.isArray(card.classes) || card.classes.join() !== CLASSES.join()) {
    throw new InputError(
      subject,
      `model classes ${JSON.stringify(card.classes)} are not supported (want ${JSON.stringify(CLASSES)})`,
    )
  }
  if (typeof card.frontend !== 'object' || card.frontend === null) throw new InputError(subject, 'card has no frontend')
  const w = card.windowing
  if (typeof w !== 'object' || w === null) throw new InputError(subject, 'card has no windowing')
  card.frontend = checkFrontend(withoutLegacyWindowFrames(card.frontend, w, subject), subject)
  for (const key of ['window_frames', 'hop_frames', 'min_frames'] as const) {
    if (!Number.isInteger(w[key]) || w[key] <= 0) {
      throw new InputError(subject, `windowing.${key}=${JSON.stringify(w[key])} must be a positive integer`)
    }
  }
  if (w.min_frames > w.window_frames) throw new InputError(subject, 'windowing.min_frames exceeds window_frames')
  for (const [key, want] of Object.entries(WINDOWING_RULES)) {
    const got = w[key as keyof Windowing]
    if (got !== want) {
      throw new InputError(subject, `windowing.${key}=${JSON.stringify(got)} is not supported (want "${want}")`)
    }
  }
  if (!AGGREGATIONS.includes(card.aggregation)) {
    throw new InputError(
      subject,
      `aggregation ${JSON.stringify(card.aggregation)} is not supported (want one of ${AGGREGATIONS.join(', ')})`,
    )
  }
  if (card.aggregation === 'fusion') checkFusion(card.fusion, subject)
  if (card.calibration !== undefined) checkCalibration(card.calibration, card.aggregation, subject)
  if (card.heads !== undefined) checkHeads(card.heads, subject)
  if (card.int8_twin !== undefined) checkTwin(card.int8_twin, subject)
  checkCardOutputs(card, subject)
  return card
}

const isShare = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1

/** An int8 twin is a plain file name beside the card (never a path), with its hash and its CV figures as shares. */
function checkTwin(twin: Int8Twin, subject: string): void {
  const file: unknown = twin?.file
  if (typeof file !== 'string' || !/^[\w.-]+\.onnx$/.test(file) || file.startsWith('.')) {
    throw new InputError(subject, `int8_twin.file=${JSON.stringify(file)} must be a file name beside the card`)
  }
  if (typeof twin.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(twin.sha256)) {
    throw new InputError(subject, 'int8_twin.sha256 must be 64 lowercase hex digits')
  }
  const cv = twin.cv
  const figures = [cv?.patient_uar?.fp32, cv?.patient_uar?.int8, cv?.recording_agreement]
  if (typeof cv?.run !== 'string' || !figures.every(isShare)) {
    throw new InputError(
      subject,
      'int8_twin.cv must name its run and give patient_uar.fp32, patient_uar.int8 and recording_agreement in [0, 1]',
    )
  }
}

const HEAD_RULES = { recording_rule: 'mean', shown: 'murmur_verdict' } as const

/** Descriptor heads must be known names, each once, with its ONNX output, and two or more of its name's labels. */
function checkHeads(heads: unknown, subject: string): void {
  if (!Array.isArray(heads)) throw new InputError(subject, 'heads must be a list of descriptor heads')
  const seen = new Set<string>()
  for (const [i, head] of (heads as Partial<DescriptorHead>[]).entries()) {
    const name = head?.name
    if (typeof name !== 'string' || !Object.hasOwn(DESCRIPTOR_HEADS, name)) {
      throw new InputError(
        subject,
        `heads[${i}]: ${JSON.stringify(name)} is not a descriptor head (want one of ${Object.keys(DESCRIPTOR_HEADS).join(', ')})`,
      )
    }
    if (seen.has(name)) throw new InputError(subject, `head ${name} is listed twice`)
    seen.add(name)
    if (head.output !== headOutput(name)) {
      throw new InputError(subject, `head ${name}: output ${JSON.stringify(head.output)} is not "${headOutput(name)}"`)
    }
    const allowed: readonly string[] = DESCRIPTOR_HEADS[name as keyof typeof DESCRIPTOR_HEADS]
    const labels = head.labels as unknown
    if (!Array.isArray(labels) || labels.length < 2 || new Set(labels).size !== labels.length) {
      throw new InputError(subject, `head ${name}: labels must be two or more distinct labels`)
    }
    const unknown = labels.filter((label) => !allowed.includes(label as string))
    if (unknown.length) {
      throw new InputError(
        subject,
        `head ${name}: labels ${JSON.stringify(unknown)} are not allowed (want some of ${allowed.join(', ')})`,
      )
    }
    for (const [key, want] of Object.entries(HEAD_RULES)) {
      const got = head[key as keyof typeof HEAD_RULES]
      if (got !== want) {
        throw new InputError(subject, `head ${name}: ${key}=${JSON.stringify(got)} is not supported (want "${want}")`)
      }
    }
  }
}

/** The ONNX outputs a card's model must have, in order: log_probs, attention, then each head's. */
export const expectedOutputs = (card: ModelCard): string[] => [
  'log_probs',
  'attention',
  ...(card.heads ?? []).map((h) => h.output),
]

/** A card that lists its outputs (export.py's do) must list exactly those its heads imply. */
function checkCardOutputs(card: ModelCard, subject: string): void {
  if (!Array.isArray(card.outputs)) return
  const listed = (card.outputs as { name?: unknown }[]).map((o) => o?.name)
  const want = expectedOutputs(card)
  if (listed.join() !== want.join()) {
    throw new InputError(subject, `outputs ${JSON.stringify(listed)} are not ${JSON.stringify(want)} (its heads)`)
  }
}

/** What the engine sees of one graph output (onnxruntime's outputMetadata; shape empty where unknown). */
export interface GraphOutput {
  name: string
  shape?: readonly (number | string)[]
}

/**
 * The model's graph must return what its card says: outputs named as expectedOutputs, and each descriptor head's
 * [batch, labels] with as many labels as the card lists, else an InputError naming the card and the head.
 */
export function checkGraphOutputs(card: ModelCard, outputs: readonly GraphOutput[], subject: string): void {
  const names = outputs.map((o) => o.name)
  const want = expectedOutputs(card)
  if (names.join() !== want.join()) {
    const heads = card.heads?.length ? `${card.heads.map((h) => h.name).join(', ')}` : 'none'
    throw new InputError(
      subject,
      `the model's graph outputs ${JSON.stringify(names)} are not ${JSON.stringify(want)} (the card's heads: ${heads})`,
    )
  }
  for (const head of card.heads ?? []) {
    const size = outputs.find((o) => o.name === head.output)?.shape?.at(-1)
    if (typeof size === 'number' && size !== head.labels.length) {
      throw new InputError(
        subject,
        `head ${head.name}: the graph gives ${size} label(s), the card lists ${head.labels.length} (${head.labels.join(', ')})`,
      )
    }
  }
}

/**
 * Cards exported before window_frames lived only in the windowing also carry it in the front end: there it must
 * agree with the windowing (the model's own), and it is dropped so that nothing reads it from the front end.
 */
function withoutLegacyWindowFrames(frontend: FrontendParams, w: Windowing, subject: string): FrontendParams {
  const { window_frames: legacy, ...rest } = frontend as FrontendParams & { window_frames?: unknown }
  if (legacy !== undefined && legacy !== w.window_frames) {
    throw new InputError(
      subject,
      `frontend.window_frames=${JSON.stringify(legacy)} is not windowing.window_frames=${JSON.stringify(w.window_frames)}`,
    )
  }
  return rest
}

/** A calibration block is optional; present, it must be temperatures this code applies, for the card's own rule. */
function checkCalibration(calibration: Calibration, aggregation: string, subject: string): void {
  if (typeof calibration !== 'object' || calibration === null || calibration.method !== 'temperature') {
    throw new InputError(subject, 'calibration must be an object with method "temperature"')
  }
  for (const level of ['recording', 'patient'] as const) {
    const t = (calibration[level] as { temperature?: unknown } | undefined)?.temperature
    if (!(typeof t === 'number' && Number.isFinite(t) && t > 0)) {
      throw new InputError(subject, `calibration.${level}.temperature=${JSON.stringify(t)} must be a finite number > 0`)
    }
  }
  if (calibration.patient.rule !== aggregation) {
    throw new InputError(
      subject,
      `calibration.patient.rule ${JSON.stringify(calibration.patient.rule)} is not the card's aggregation "${aggregation}"`,
    )
  }
}

const finiteVector = (v: unknown, n: number): boolean =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x))

/** The fitted site fusion must be exactly what aggregate.ts computes: its features, a weight per feature and class. */
function checkFusion(fusion: SiteFusion | undefined, subject: string): void {
  if (typeof fusion !== 'object' || fusion === null) {
    throw new InputError(subject, 'aggregation "fusion" needs a fusion block with its fitted weights')
  }
  if (!Array.isArray(fusion.features) || fusion.features.join() !== FUSION_FEATURES.join()) {
    throw new InputError(subject, `fusion.features must be ${JSON.stringify(FUSION_FEATURES)}`)
  }
  if (!(typeof fusion.log_eps === 'number' && fusion.log_eps > 0 && Number.isFinite(fusion.log_eps))) {
    throw new InputError(subject, `fusion.log_eps=${JSON.stringify(fusion.log_eps)} must be a positive number`)
  }
  const shape = `${CLASSES.length} x ${FUSION_FEATURES.length}`
  const weights = fusion.weights as unknown
  if (
    !Array.isArray(weights) ||
    weights.length !== CLASSES.length ||
    !weights.every((row) => finiteVector(row, FUSION_FEATURES.length))
  ) {
    throw new InputError(subject, `fusion.weights must be ${shape} finite numbers`)
  }
  if (!finiteVector(fusion.bias, CLASSES.length)) {
    throw new InputError(subject, `fusion.bias must be ${CLASSES.length} finite numbers`)
  }
}
