import type { SiteRecord, WindowVerdict } from '@core/api/app'
import { CLASSES, type ClassName, type Probabilities } from '@core/api/classes'
import type { VerdictState } from './components/VerdictPanel.vue'

/** What a site's record can say of its verdict, once no window verdicts are arriving for it. */
export function recordState(record: SiteRecord | undefined): VerdictState {
  if (record?.probabilities) return 'final'
  if (record?.quality && !record.quality.ok) return 'withheld'
  switch (record?.status) {
    case 'recording':
      return 'waiting'
    case 'skipped':
      return 'skipped'
    case 'interrupted':
      return 'interrupted'
    case 'done':
      return 'unrated' // recorded, but too little sound for even one frame
    default:
      return 'idle'
  }
}

/**
 * Top two probabilities closer than this read "Uncertain: A or B", never one big label. 10 points: the model card's
 * recording-level class-wise calibration error is 7 points (calibration.recording.classwise_ece_*), so two classes
 * nearer than that and a little are an order the probabilities cannot vouch for.
 */
export const NEAR_TIE = 0.1

/** The two likeliest classes, most likely first, when they are a near tie; undefined when one clearly leads. */
export function nearTie(p: Probabilities | undefined): [ClassName, ClassName] | undefined {
  if (!p) return undefined
  const [first, second] = [...CLASSES].sort((a, b) => p[b] - p[a])
  return p[first!] - p[second!] < NEAR_TIE ? [first!, second!] : undefined
}

/** What one window verdict says: withheld by the quality gate, provisional (less than a whole window), or settled. */
export const windowState = (w: WindowVerdict, settled: 'live' | 'final'): VerdictState =>
  w.verdict === null ? 'withheld' : w.provisional ? 'provisional' : settled

/** The quality gate's reasons as words: "too short, silence" ("unclear" when it gave none). */
export const reasonsText = (reasons: readonly string[] | undefined): string =>
  (reasons ?? []).map((r) => r.replace(/_/g, ' ')).join(', ') || 'unclear'
