import { CLASSES, type ClassName } from '../api/classes'
import type { PatientRule, SiteFusion } from '../api/model-card'
import { calibrate, uncalibrateRecording } from './calibration'

export type Probabilities = Record<ClassName, number>

export const toRecord = (p: ArrayLike<number>): Probabilities => ({
  normal: p[0]!,
  mild: p[1]!,
  moderate_severe: p[2]!,
})

export const toArray = (p: Probabilities): number[] => CLASSES.map((c) => p[c])

/** exp(log-softmax) of one row, in float64 */
export const fromLogProbs = (logProbs: ArrayLike<number>, row = 0, k = CLASSES.length): number[] =>
  Array.from({ length: k }, (_, c) => Math.exp(logProbs[row * k + c]!))

/** Index of the largest value, the first one on ties (numpy's argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}

/**
 * The one place verdicts are made. A probability that is not finite (NaN from a NaN input, Inf) is a bug upstream:
 * the argmax of NaNs is index 0, "normal", so it is refused here rather than shown.
 */
export function verdictOf(p: ArrayLike<number>): ClassName {
  if (!Array.prototype.every.call(p, Number.isFinite)) {
    throw new Error(`no verdict from probabilities that are not finite: [${Array.from(p).join(', ')}]`)
  }
  return CLASSES[argmax(p)]!
}

/** Mean of probability vectors (the card's recording_rule "mean" over windows, and the "mean" aggregation). */
export function meanProbabilities(rows: ArrayLike<number>[]): number[] {
  if (rows.length === 0) throw new RangeError('nothing to average')
  const k = rows[0]!.length
  const out = new Array<number>(k).fill(0)
  for (const row of rows) for (let c = 0; c < k; c++) out[c]! += row[c]!
  return out.map((v) => v / rows.length)
}

export interface Aggregated {
  probabilities: number[]
  /** for max_murmur: the index of the recording whose probabilities were taken */
  chosen?: number
}

/** The recording with the lowest p(normal), the first on ties (numpy's argmin). */
function mostMurmurLike(rows: ArrayLike<number>[]): number {
  let chosen = 0
  for (let i = 1; i < rows.length; i++) if (rows[i]![0]! < rows[chosen]![0]!) chosen = i
  return chosen
}

/** The fusion's features of the recordings' probabilities: mean p, mean log(p + eps), the most murmur-like p. */
export function fusionFeatures(rows: ArrayLike<number>[], logEps: number): number[] {
  const logs = rows.map((row) => Array.from(row, (p) => Math.log(p + logEps)))
  return [...meanProbabilities(rows), ...meanProbabilities(logs), ...Array.from(rows[mostMurmurLike(rows)]!)]
}

/** softmax(weights @ features + bias), in float64 */
function applyFusion(rows: ArrayLike<number>[], fusion: SiteFusion): number[] {
  const x = fusionFeatures(rows, fusion.log_eps)
  const z = fusion.weights.map((w, c) => w.reduce((acc, wi, i) => acc + wi * x[i]!, fusion.bias[c]!))
  const top = Math.max(...z)
  const e = z.map((v) => Math.exp(v - top))
  const sum = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / sum)
}

/**
 * A patient's (or a session's, several sites) probabilities from its recordings' calibrated probabilities (as
 * classifyFeatures gives them), by the model card's rule, as training/phonoscope_training/aggregation.py: the rule
 * takes the recordings' probabilities on the model's scale (what it was fitted on) and its output is scaled by the
 * card's patient temperature (calibration.ts). "mean" = mean of the recordings' probabilities; "max_murmur" = those
 * of the recording with the lowest p(normal); "fusion" = the card's learned site fusion.
 */
export function aggregateRecordings(calibrated: ArrayLike<number>[], rule: PatientRule): Aggregated {
  const { probabilities, chosen } = applyRule(
    calibrated.map((p) => uncalibrateRecording(p, rule)),
    rule,
  )
  return { probabilities: calibrate(probabilities, rule, 'patient'), ...(chosen !== undefined ? { chosen } : {}) }
}

function applyRule(rows: ArrayLike<number>[], rule: PatientRule): Aggregated {
  if (rows.length === 0) throw new RangeError('no recordings to aggregate')
  switch (rule.aggregation) {
    case 'mean':
      return { probabilities: meanProbabilities(rows) }
    case 'max_murmur': {
      const chosen = mostMurmurLike(rows)
      return { probabilities: Array.from(rows[chosen]!), chosen }
    }
    case 'fusion':
      if (!rule.fusion) throw new RangeError('the fusion rule needs its fitted weights (the card has no fusion)')
      return { probabilities: applyFusion(rows, rule.fusion) }
  }
}
