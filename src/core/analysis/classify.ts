import type { InferenceOutput, ModelInfo, WindowBatch } from '../api/inference'
import { CLASSES, type ClassName } from '../api/classes'
import type { Aggregation, ModelCard, PatientRule } from '../api/model-card'
import { aggregateRecordings, fromLogProbs, toArray, toRecord, verdictOf, type Probabilities } from './aggregate'
import { calibrate } from './calibration'
import { coverageWeightedAttention, placeClass, type AttentionMap } from './attention'
import { attentionByPhase, murmurTiming, type PhaseShares } from './attention-phase'
import { recordingDescriptors, windowDescriptors, type Descriptors, type WindowDescriptors } from './descriptors'
import { assessQuality, gated, MIN_SECONDS, type Quality } from './quality'
import type { RecordingFeatures } from './recording'
import { heartRateOf, segmentHeartCycles, type HeartRate, type Segmentation } from './segmentation'
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
  /** null when the quality gate withholds it */
  verdict: ClassName | null
  quality: Quality
  heart_rate: HeartRate | null
  /** the model's attention map for this window, [classes, time', freq'] */
  attention: AttentionMap
  /** the descriptor heads' probabilities; only for a card with heads */
  descriptors?: WindowDescriptors
}

export interface RecordingResult {
  file: string
  duration_s: number
  frames: number
  windows: WindowResult[]
  /** the mean of the windows that passed the quality gate (of all of them when none did) */
  probabilities: Probabilities
  /** null when withheld: the recording failed the gate, or none of its windows passed */
  verdict: ClassName | null
  /** indices of the windows whose mean is the verdict (those the gate passed); [] when withheld */
  verdict_windows: number[]
  /** the verdict class's attention over those windows by heart phase; null without a verdict or a segmentation */
  attention_phase: PhaseShares | null
  /** a murmur verdict whose attention one phase dominates (murmurTiming); null otherwise */
  murmur_timing: 'systolic' | 'diastolic' | null
  /** the descriptor heads over the verdict's windows (recordingDescriptors); only for a murmur verdict and a card with heads */
  descriptors?: Descriptors
  quality: Quality
  heart_rate: HeartRate | null
  segmentation: Segmentation | null
  /** false when shorter than the card's window: the verdict rests on less sound than the model's window */
  final: boolean
}

/** Seconds at which frame `f` starts, and at which the last sample of frame `f` ends. */
export const frameStart = (f: number, card: ModelCard): number =>
  (f * card.frontend.hop_length) / card.frontend.sample_rate
export const frameEnd = (f: number, card: ModelCard): number =>
  (f * card.frontend.hop_length + card.frontend.n_fft) / card.frontend.sample_rate

/** The shortest span the quality gate grades: its own minimum, never under the model's (the card's min_frames). */
export const gateMinSeconds = (card: ModelCard): number =>
  Math.max(MIN_SECONDS, frameEnd(card.windowing.min_frames - 1, card))

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
  const rate = card.frontend.sample_rate
  const minSeconds = gateMinSeconds(card)
  const segmentation = segmentHeartCycles(features.signal, rate)
  const recording = { segmentation, quality: assessQuality(features.signal, rate, segmentation, minSeconds) }
  const windows = plans.map((plan, i) => {
    // a window that is the whole recording shares its segmentation; a longer recording's windows get their own
    const span = plans.length === 1 ? recording : spanQuality(features.signal, plan, card, minSeconds)
    return windowResult(plan, outputs[i]!, card, span)
  })
  const passed = windows.filter((w) => w.verdict !== null)
  const probs = toRecord(
    calibrate(toArray(meanOf((passed.length ? passed : windows).map((w) => w.probabilities))), card, 'recording'),
  )
  const quality = recording.quality.ok && passed.length === 0 ? windowsFailed(windows) : recording.quality
  const verdict = gated(quality, () => verdictOf(CLASSES.map((c) => probs[c])))
  const phases =
    verdict === null || !segmentation ? null : attentionPhases(passed, verdict, features.frames, card, segmentation)
  const descriptors = recordingDescriptors(
    verdict,
    passed.map((w) => w.descriptors),
    card.heads,
  )
  return {
    file: features.path,
    duration_s: features.durationS,
    frames: features.frames,
    windows,
    probabilities: probs,
    verdict,
    verdict_windows: verdict === null ? [] : passed.map((w) => w.index),
    attention_phase: phases?.attention ?? null,
    murmur_timing: phases && verdict !== 'normal' ? murmurTiming(phases) : null,
    ...(descriptors ? { descriptors } : {}),
    quality,
    heart_rate: gated(quality, () => segmentation && heartRateOf(segmentation)),
    segmentation,
    final: features.frames >= card.windowing.window_frames,
  }
}

/** Attention of `cls` over windows on the recording's frames (coverageWeightedAttention). */
export function windowsAttention(windows: WindowResult[], cls: ClassName, nFrames: number) {
  const c = CLASSES.indexOf(cls)
  const placed = windows.map((w) =>
    placeClass(w.attention, c, {
      first_frame: w.start_frame,
      frames: w.end_frame - w.start_frame,
      input_frames: w.input_frames,
    }),
  )
  return coverageWeightedAttention(placed, nFrames)
}

/** A class's attention over windows, by heart phase (attentionByPhase); each frame counts at its centre. */
export function attentionPhases(
  windows: WindowResult[],
  cls: ClassName,
  nFrames: number,
  card: ModelCard,
  segmentation: Segmentation,
) {
  const attention = windowsAttention(windows, cls, nFrames)
  const half = card.frontend.n_fft / 2 / card.frontend.sample_rate
  return attention ? attentionByPhase(attention, segmentation, (f) => frameStart(f, card) + half) : null
}

/** The spans of the windows the verdict came from (RecordingResult.verdict_windows), as a site record keeps them. */
export const verdictSpans = (result: RecordingResult) =>
  result.windows
    .filter((w) => result.verdict_windows.includes(w.index))
    .map(({ index, start_s, end_s }) => ({ index, start_s, end_s }))

interface SpanAnalysis {
  segmentation: Segmentation | null
  quality: Quality
}

function spanQuality(signal: Float32Array, plan: WindowPlan, card: ModelCard, minSeconds: number): SpanAnalysis {
  const { hop_length, n_fft, sample_rate } = card.frontend
  const samples = signal.subarray(plan.start * hop_length, (plan.end - 1) * hop_length + n_fft)
  const segmentation = segmentHeartCycles(samples, sample_rate)
  return { segmentation, quality: assessQuality(samples, sample_rate, segmentation, minSeconds) }
}

/** A recording that passes as a whole but none of whose windows does: withheld for its windows' reasons. */
function windowsFailed(windows: WindowResult[]): Quality {
  const reasons = [...new Set(windows.flatMap((w) => w.quality.reasons))]
  return { score: Math.max(...windows.map((w) => w.quality.score)), ok: false, reasons }
}

function windowResult(plan: WindowPlan, output: InferenceOutput, card: ModelCard, span: SpanAnalysis): WindowResult {
  const p = fromLogProbs(output.logProbs)
  const [, classes, time, freq] = output.attentionShape
  const descriptors = windowDescriptors(output.headLogProbs, card.heads)
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
    verdict: gated(span.quality, () => verdictOf(p)),
    quality: span.quality,
    heart_rate: gated(span.quality, () => span.segmentation && heartRateOf(span.segmentation)),
    attention: { classes, time, freq, data: output.attention.slice(0, classes * time * freq) },
    ...(descriptors ? { descriptors } : {}),
  }
}

function meanOf(rows: Probabilities[]): Probabilities {
  const sum = rows.reduce((acc, p) => acc.map((v, c) => v + p[CLASSES[c]!]), [0, 0, 0])
  return toRecord(sum.map((v) => v / rows.length))
}

export interface SessionVerdict {
  rule: Aggregation
  /** absent when every recording was withheld */
  probabilities?: Probabilities
  verdict: ClassName | null
  /** max_murmur: the recording whose probabilities decide */
  decided_by?: string
  /** recordings that entered the verdict (those the quality gate passed) */
  recordings: number
  withheld: number
}

/** A patient / session verdict over the recordings (sites) the gate passed, by the model card's aggregation rule. */
export function sessionVerdict(recordings: RecordingResult[], rule: PatientRule): SessionVerdict {
  const graded = recordings.filter((r) => r.verdict !== null)
  const withheld = recordings.length - graded.length
  if (graded.length === 0) return { rule: rule.aggregation, verdict: null, recordings: 0, withheld }
  const rows = graded.map((r) => CLASSES.map((c) => r.probabilities[c]))
  const { probabilities, chosen } = aggregateRecordings(rows, rule)
  return {
    rule: rule.aggregation,
    probabilities: toRecord(probabilities),
    verdict: verdictOf(probabilities),
    ...(chosen !== undefined ? { decided_by: graded[chosen]!.file } : {}),
    recordings: graded.length,
    withheld,
  }
}

export const modelSummary = (info: ModelInfo) => ({
  name: info.name,
  version: info.version,
  sha256: info.sha256,
  path: info.path,
  precision: info.precision,
  aggregation: info.card.aggregation,
})
