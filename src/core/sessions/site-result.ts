import type { SiteRecord } from '../api/app'
import { verdictSpans, type RecordingResult } from '../analysis/classify'

const ms = (seconds: number): number => Math.round(seconds * 1000) / 1000

/**
 * What an offline classify of a site's recording puts on its record: the quality, heart rate and heart sounds, and
 * (unless the gate withheld it) the verdict with the windows behind it. One mapping for a site just recorded and a
 * recording imported, so the two can never differ.
 */
export function siteResult(result: RecordingResult): Partial<SiteRecord> {
  const record: Partial<SiteRecord> = {
    quality: result.quality,
    heart_rate_bpm: result.heart_rate?.bpm ?? null,
    murmur_timing: result.murmur_timing,
  }
  if (result.segmentation) {
    record.heart_sounds = { s1: result.segmentation.s1_onsets.map(ms), s2: result.segmentation.s2_onsets.map(ms) }
  }
  // a site the quality gate withholds has no verdict and stays out of the patient verdict
  if (result.verdict !== null) {
    Object.assign(record, {
      probabilities: result.probabilities,
      verdict: result.verdict,
      verdict_windows: verdictSpans(result),
    })
  }
  return record
}
