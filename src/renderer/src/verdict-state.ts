import type { SiteRecord, WindowVerdict } from '@core/api/app'
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

/** What one window verdict says: withheld by the quality gate, provisional (less than a whole window), or settled. */
export const windowState = (w: WindowVerdict, settled: 'live' | 'final'): VerdictState =>
  w.verdict === null ? 'withheld' : w.provisional ? 'provisional' : settled

/** The quality gate's reasons as words: "too short, silence" ("unclear" when it gave none). */
export const reasonsText = (reasons: readonly string[] | undefined): string =>
  (reasons ?? []).map((r) => r.replace(/_/g, ' ')).join(', ') || 'unclear'
