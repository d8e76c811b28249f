import type { SiteRecord } from '@core/api/app'
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
