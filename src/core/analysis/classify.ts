import type { InferenceOutput, ModelInfo, WindowBatch } from '../api/inference'
import { CLASSES, type ClassName } from '../api/classes'
import type { Aggregation, ModelCard, PatientRule } from '../api/model-card'
import { aggregateRecordings, fromLogProbs, toArray, toRecord, verdictOf, type Probabilities } from './aggregate'
import { calibrate } from './calibration'
import type { AttentionMap } from './attention'
import type { RecordingFeatures } from './recording'
import { planWindows, windowInput, type WindowKind, type WindowPlan } from './windowing'

/** Anything that runs window batches: the inference host client, or an OnnxModel in-process. */
export interface Inferer {
  infer(input: WindowBatch): Promise<InferenceOutput>
}

export interface WindowResult {
  index: number
  start_frame: number
  end_frame: number
  start_s: number
  end_s: number
  kind: WindowKind
  /** true when the window was wrap-padded to the model's minimum length */
  padded: boolean
  /** frames fed to the model */
  input_frames: number
  probabilities: Probabilities
  verdict: ClassName
  /** the model's attention map for this window, [classes, time', freq'] */
  attention: AttentionMap
}

export interface RecordingResult {
  file: string
  duration_s: number
  frames: number
  windows: WindowResult[]
  probabilities: Probabilities
  verdict: ClassName
}

/** Seconds at which frame `f` starts, and at which the last sample of frame `f` ends. */
export const frameStart = (f: number, card: ModelCard): number =>
  (f * card.frontend.hop_length) / card.frontend.sample_rate
export const frameEnd = (f: number, card: ModelCard): number =>
  (f * card.frontend.hop_length + card.frontend.n_fft) / card.frontend.sample_rate

/**
 * Windows -> model -> probabilities: every window of the card's windowing (hop overridable) runs as a batch of one
 * (all are sent at once; the host queues them), the recording's probabilities are the mean of its windows'.
 */
export async function classifyFeatures(
  features: RecordingFeatures,
  card: ModelCard,
  inferer: Inferer,
  hopFrames?: number,
): Promise<RecordingResult> {
  const plans = planWindows(features.frames, card.windowing, hopFrames)
  const outputs = await Promise.all(
    plans.map((plan) =>
      inferer.infer({
        batch: 1,
        frames: plan.length,
        nMels: features.nMels,
        data: windowInput(features.data, features.nMels, plan),
      }),
    ),
  )
  const windows = plans.map((plan, i) => windowResult(plan, outputs[i]!, card))
  const probs = toRecord(calibrate(toArray(meanOf(windows.map((w) => w.probabilities))), card, 'recording'))
  return {
    file: features.path,
    duration_s: features.durationS,
    frames: features.frames,
    windows,
    probabilities: probs,
    verdict: verdictOf(CLASSES.map((c) => probs[c])),
  }
}

function windowResult(plan: WindowPlan, output: InferenceOutput, card: ModelCard): WindowResult {
  const p = fromLogProbs(output.logProbs)
  const [, classes, time, freq] = output.attentionShape
  return {
    index: plan.index,
    start_frame: plan.start,
    end_frame: plan.end,
    start_s: frameStart(plan.start, card),
    end_s: frameEnd(plan.end - 1, card),
    kind: plan.kind,
    padded: plan.padded,
    input_frames: plan.length,
    probabilities: toRecord(p),
    verdict: verdictOf(p),
    attention: { classes, time, freq, data: output.attention.slice(0, classes * time * freq) },
  }
}

function meanOf(rows: Probabilities[]): Probabilities {
  const sum = rows.reduce((acc, p) => acc.map((v, c) => v + p[CLASSES[c]!]), [0, 0, 0])
  return toRecord(sum.map((v) => v / rows.length))
}

export interface SessionVerdict {
  rule: Aggregation
  probabilities: Probabilities
  verdict: ClassName
  /** max_murmur: the recording whose probabilities decide */
  decided_by?: string
  recordings: number
}

/** A patient / session verdict over several recordings (sites), by the model card's aggregation rule. */
export function sessionVerdict(recordings: RecordingResult[], rule: PatientRule): SessionVerdict {
  const rows = recordings.map((r) => CLASSES.map((c) => r.probabilities[c]))
  const { probabilities, chosen } = aggregateRecordings(rows, rule)
  return {
    rule: rule.aggregation,
    probabilities: toRecord(probabilities),
    verdict: verdictOf(probabilities),
    ...(chosen !== undefined ? { decided_by: recordings[chosen]!.file } : {}),
    recordings: recordings.length,
  }
}

export const modelSummary = (info: ModelInfo) => ({
  name: info.name,
  version: info.version,
  sha256: info.sha256,
  path: info.path,
  aggregation: info.card.aggregation,
})
