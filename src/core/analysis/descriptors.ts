/**
 * Murmur descriptors (issue 17): a model card's descriptor heads (timing, shape, pitch, quality, diastolic, audible
 * here) per window, and per recording the mean of the windows that entered its verdict (the heads' recording_rule),
 * given only where that verdict is a murmur (the heads' `shown`: a normal sound has no murmur to describe).
 */
import type { Descriptors } from '../api/app'
import type { ClassName } from '../api/classes'
import type { DescriptorHead } from '../api/model-card'

/** A recording's descriptors, as a site's record and classify --json carry them (the contract's type). */
export type { Descriptor, Descriptors } from '../api/app'

/** One head's probability per label. */
export type LabelProbabilities = Record<string, number>
/** A window's descriptors: per head name, its labels' probabilities. */
export type WindowDescriptors = Record<string, LabelProbabilities>

const isMurmur = (verdict: ClassName | null): boolean => verdict === 'mild' || verdict === 'moderate_severe'

/** The first window of a batch's head outputs as probabilities; undefined for a card without heads. */
export function windowDescriptors(
  headLogProbs: Record<string, Float32Array> | undefined,
  heads: readonly DescriptorHead[] | undefined,
): WindowDescriptors | undefined {
  if (!heads?.length) return undefined
  const entries = heads.map((head) => {
    const logProbs = headLogProbs?.[head.name]
    if (!logProbs) throw new Error(`the inference output lacks descriptor head ${head.name} (host and card disagree)`)
    return [head.name, Object.fromEntries(head.labels.map((label, i) => [label, Math.exp(logProbs[i]!)]))] as const
  })
  return Object.fromEntries(entries)
}

/**
 * A recording's descriptors: for each head, the mean over `windows` (those that entered the verdict) of their label
 * probabilities, and its most probable label. Undefined unless the verdict is a murmur and the card has heads.
 */
export function recordingDescriptors(
  verdict: ClassName | null,
  windows: readonly (WindowDescriptors | undefined)[],
  heads: readonly DescriptorHead[] | undefined,
): Descriptors | undefined {
  if (!heads?.length || !isMurmur(verdict) || windows.length === 0) return undefined
  const entries = heads.map((head) => {
    const probabilities = Object.fromEntries(
      head.labels.map((label) => {
        const sum = windows.reduce((acc, w) => acc + (w?.[head.name]?.[label] ?? Number.NaN), 0)
        return [label, sum / windows.length]
      }),
    )
    if (Object.values(probabilities).some(Number.isNaN)) {
      throw new Error(`a window lacks descriptor head ${head.name}`)
    }
    const label = head.labels.reduce((best, l) => (probabilities[l]! > probabilities[best]! ? l : best))
    return [head.name, { label, probabilities }] as const
  })
  return Object.fromEntries(entries) as Descriptors
}
