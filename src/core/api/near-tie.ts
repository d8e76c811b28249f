import type { ClassName, Probabilities } from './classes'

/**
 * Top two probabilities closer than this read "Uncertain: A or B", never one big label. 10 points: the model card's
 * recording-level class-wise calibration error is 7 points (calibration.recording.classwise_ece_*), so two classes
 * nearer than that and a little are an order the probabilities cannot vouch for.
 */
export const NEAR_TIE = 0.1

/** The two likeliest classes, most likely first, when they are a near tie; undefined when one clearly leads. */
export function nearTie(p: Probabilities | undefined): [ClassName, ClassName] | undefined {
  if (!p) return undefined
  const [first, second] = (Object.keys(p) as ClassName[]).sort((a, b) => p[b] - p[a])
  return p[first!] - p[second!] < NEAR_TIE ? [first!, second!] : undefined
}
