import type { SessionInfo } from '../api/app'
import { CLASSES } from '../api/classes'
import type { PatientRule } from '../api/model-card'
import { aggregateRecordings, toRecord, verdictOf } from '../analysis/aggregate'

/**
 * Sets a session's patient verdict from its sites' verdicts by the card's rule; with no site standing behind one
 * (skipped, withheld, or redone and withheld) it has none. For a recorded exam and an imported one alike.
 */
export function updatePatientVerdict(info: SessionInfo, rule: PatientRule): void {
  const decided = info.sites.filter((s) => s.probabilities)
  if (decided.length === 0) {
    delete info.probabilities
    delete info.verdict
    return
  }
  const rows = decided.map((s) => CLASSES.map((c) => s.probabilities![c]))
  const { probabilities } = aggregateRecordings(rows, rule)
  info.probabilities = toRecord(probabilities)
  info.verdict = verdictOf(probabilities)
}
