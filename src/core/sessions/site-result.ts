import type { Site, SiteRecord, WindowVerdict } from '../api/app'
import { CLASSES } from '../api/classes'
import type { DescriptorHead } from '../api/model-card'
import { verdictOf } from '../analysis/aggregate'
import { recordingDescriptors } from '../analysis/descriptors'
import { verdictSpans, type RecordingResult } from '../analysis/classify'

const ms = (seconds: number): number => Math.round(seconds * 1000) / 1000

/** Every field siteResult may set: what a site about to be recorded again, or skipped, must drop of an earlier one. */
export const SITE_RESULT_FIELDS = [
  'probabilities',
  'verdict',
  'verdict_windows',
  'descriptors',
  'quality',
  'heart_rate_bpm',
  'heart_sounds',
  'murmur_timing',
] as const satisfies readonly (keyof SiteRecord)[]

/**
 * What an offline classify of a site's recording puts on its record: the quality, heart rate and heart sounds, and
 * (unless the gate withheld it) the verdict with the windows behind it and, for a murmur verdict by a model with
 * descriptor heads, the descriptors over those same windows. One mapping for a site just recorded and a
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
      ...(result.descriptors && { descriptors: result.descriptors }),
    })
  }
  return record
}

/**
 * An offline classify's windows as a site's record keeps them (as a live site's windows are): each with its
 * probabilities, gate and attention for its own top class, so an imported site's review and report show where the
 * model looked, and a murmur window its descriptors (`heads`, the card's), as a live window has them. `ms` is 0: an
 * offline run is timed as a whole, not per window.
 */
export function offlineWindows(
  site: Site,
  result: RecordingResult,
  provider: string,
  heads: readonly DescriptorHead[] | undefined,
): WindowVerdict[] {
  return result.windows.map((w) => {
    const { time, freq, data } = w.attention
    const c = CLASSES.indexOf(verdictOf(CLASSES.map((k) => w.probabilities[k])))
    const descriptors = recordingDescriptors(w.verdict, [w.descriptors], heads)
    return {
      site,
      index: w.index,
      start_s: w.start_s,
      end_s: w.end_s,
      provisional: !result.final,
      probabilities: w.probabilities,
      verdict: w.verdict,
      quality: w.quality,
      heart_rate_bpm: w.verdict === null ? null : (w.heart_rate?.bpm ?? null),
      ...(descriptors && { descriptors }),
      attention: { time, freq, data: Array.from(data.subarray(c * time * freq, (c + 1) * time * freq)) },
      first_frame: w.start_frame,
      frames: w.end_frame - w.start_frame,
      provider,
      ms: 0,
    }
  })
}
