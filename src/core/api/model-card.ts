/**
 * The model card's shape (models/<name>.json, written by training/phonoscope_training/export.py): types only, so the
 * inference protocol and the UI can name it. Reading and checking a card is src/core/model/card.ts.
 */
import { CLASSES } from './classes'

/**
 * The log-Mel front end's parameters (resources/frontend.json is the default, shared with training/). How many frames
 * a model window holds is the model's, not the front end's: Windowing.window_frames.
 */
export interface FrontendParams {
  sample_rate: number
  window: string
  win_length: number
  n_fft: number
  hop_length: number
  center: boolean
  n_mels: number
  fmin: number
  fmax: number
  mel_scale: string
  mel_norm: string
  power: number
  log: string
  log_offset: number
}

export const AGGREGATIONS = ['mean', 'max_murmur', 'fusion'] as const
export type Aggregation = (typeof AGGREGATIONS)[number]

/** How the UI names a patient rule (a saved session keeps the rule's name). */
export const AGGREGATION_LABELS: Record<Aggregation, string> = {
  mean: 'mean of the sites',
  max_murmur: 'most murmur-like site',
  fusion: 'learned fusion of the sites',
}

export function aggregationLabel(rule: string): string {
  return AGGREGATION_LABELS[rule as Aggregation] ?? rule
}

/** The fusion features, in this order (training/phonoscope_training/aggregation.py FUSION_FEATURES). */
export const FUSION_FEATURES = ['mean_p', 'mean_log_p', 'max_murmur_p'].flatMap((stat) =>
  CLASSES.map((c) => `${stat}_${c}`),
)

/** The learned site fusion of a card whose aggregation is "fusion": softmax(weights @ features + bias). */
export interface SiteFusion {
  features: string[]
  /** the epsilon of mean_log_p = mean of log(p + log_eps) */
  log_eps: number
  /** [classes][features] */
  weights: number[][]
  bias: number[]
}

/** What a patient rule needs of the card: the rule, for "fusion" its fitted weights, and the temperatures. */
export type PatientRule = Pick<ModelCard, 'aggregation' | 'fusion' | 'calibration'>

/** The levels the card calibrates: recording probabilities and patient (several sites) probabilities. */
export type CalibratedLevel = 'recording' | 'patient'

/**
 * Temperature scaling (training/phonoscope_training/calibration.py): p' = p^(1/T) / sum p^(1/T) per level, fitted on
 * out-of-fold predictions; the card also carries the fit's ECE/NLL/Brier before and after.
 */
export interface Calibration {
  method: 'temperature'
  recording: { temperature: number; [figure: string]: unknown }
  /** `rule`: the patient rule whose output the temperature was fitted on (the card's aggregation) */
  patient: { temperature: number; rule: Aggregation; [figure: string]: unknown }
  [key: string]: unknown
}

/** How a recording is cut into windows (training/phonoscope_training/data.py inference_windows). */
export interface Windowing {
  window_frames: number
  hop_frames: number
  min_frames: number
  short_input: 'as_is'
  pad: 'wrap'
  last_window: 'align_end'
  recording_rule: 'mean'
}

/**
 * The murmur descriptors a model may describe as extra heads (issue 17; training/phonoscope_training/descriptors.py
 * HEADS): name -> every label CirCor has for it, as CirCor spells them (lower case, `_` for `-`). A model's head has
 * at least two of its name's labels (rare ones are left out in training).
 */
export const DESCRIPTOR_HEADS = {
  systolic_timing: ['early_systolic', 'mid_systolic', 'late_systolic', 'holosystolic'],
  systolic_shape: ['crescendo', 'decrescendo', 'diamond', 'plateau'],
  systolic_pitch: ['low', 'medium', 'high'],
  systolic_quality: ['blowing', 'harsh', 'musical'],
  diastolic: ['no', 'yes'],
  audible_here: ['no', 'yes'],
} as const satisfies Record<string, readonly string[]>
export type DescriptorName = keyof typeof DESCRIPTOR_HEADS

/** The ONNX output of a descriptor head (training/phonoscope_training/export.py head_output). */
export const headOutput = (name: string): string => `${name}_log_probs`

/**
 * One descriptor head of a model card: its ONNX output is [batch, labels] log-softmax over `labels`; a recording's
 * probabilities are the mean of its windows' (`recording_rule`), shown only with a murmur verdict (`shown`).
 */
export interface DescriptorHead {
  name: DescriptorName
  output: string
  labels: string[]
  recording_rule: 'mean'
  shown: 'murmur_verdict'
  source?: string
  description?: string
}

/** The parts of a model card the app uses. */
export interface ModelCard {
  name: string
  version: string
  classes: string[]
  frontend: FrontendParams
  windowing: Windowing
  aggregation: Aggregation
  fusion?: SiteFusion
  calibration?: Calibration
  /** descriptor heads, in the order of their ONNX outputs after log_probs and attention; absent: none */
  heads?: DescriptorHead[]
  /** `quantization` is set on an int8 export (training/quantize.py), absent on fp32 */
  onnx?: { file?: string; sha256?: string; quantization?: string }
  /** the int8 export of this model and what the same cross-validation measured of it against this one */
  int8_twin?: Int8Twin
  [key: string]: unknown
}

/** The precision a session runs at: the card's own file, or its int8 twin. */
export const PRECISIONS = ['fp32', 'int8'] as const
export type Precision = (typeof PRECISIONS)[number]
/** 'auto': the int8 twin on cpu when it passed INT8_GATE, else fp32 (GPU providers always fp32) */
export type PrecisionRequest = Precision | 'auto'

/** An fp32 card's int8 twin: a file beside it and its cross-validated cost (quantize-cv's pooled figures). */
export interface Int8Twin {
  /** a file name in the card's folder (no path) */
  file: string
  sha256: string
  cv: {
    /** the CV run (training/results/<run>.json) both twins were measured in, one model per fold */
    run: string
    /** patient UAR under the card's aggregation rule, pooled over the folds' held-out patients */
    patient_uar: Record<Precision, number>
    /** share of held-out recordings whose verdict (argmax) the twins agree on */
    recording_agreement: number
  }
}

/** When int8 may stand in for fp32 by default: what it may lose in patient UAR, and how often it must agree. */
export const INT8_GATE = { max_patient_uar_loss: 0.005, min_recording_agreement: 0.99 } as const

/** Whether the twin's cross-validated figures meet INT8_GATE. */
export const twinPassesGate = ({ cv }: Int8Twin): boolean =>
  cv.patient_uar.fp32 - cv.patient_uar.int8 <= INT8_GATE.max_patient_uar_loss &&
  cv.recording_agreement >= INT8_GATE.min_recording_agreement

/** The precision of the file a card describes. */
export const precisionOf = (card: Pick<ModelCard, 'onnx'>): Precision => (card.onnx?.quantization ? 'int8' : 'fp32')
