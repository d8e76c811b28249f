import { CLASSES, type ClassName } from '../api/classes'
import type { Aggregation } from '../api/model-card'

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

export const verdictOf = (p: ArrayLike<number>): ClassName => CLASSES[argmax(p)]!

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

/**
 * A patient's (or a session's, several sites) probabilities from its recordings', by the model card's rule:
 * "mean" = mean of the recordings' probabilities; "max_murmur" = those of the recording with the lowest p(normal)
 * (the first on ties, numpy's argmin), as training/phonoscope_training/evaluate.py aggregate.
 */
export function aggregateRecordings(rows: ArrayLike<number>[], rule: Aggregation): Aggregated {
  if (rows.length === 0) throw new RangeError('no recordings to aggregate')
  if (rule === 'mean') return { probabilities: meanProbabilities(rows) }
  let chosen = 0
  for (let i = 1; i < rows.length; i++) if (rows[i]![0]! < rows[chosen]![0]!) chosen = i
  return { probabilities: Array.from(rows[chosen]!), chosen }
}
