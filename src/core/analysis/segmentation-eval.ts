import { basename, extname, join } from 'node:path'
import { annotatedRate, matchOnsets, readAnnotation, type OnsetMatch } from './annotation'
import { assessQuality, QUALITY_REASONS, type QualityReason } from './quality'
import { recordingFeatures } from './recording'
import { heartRateOf, segmentHeartCycles } from './segmentation'
import { DEFAULT_FRONTEND } from '../dsp/params'

/** CirCor's onset tolerance: a detected S1 or S2 onset within 60 ms of an annotated one is right (Springer 2016). */
export const TOLERANCE_S = 0.06

const f1 = (m: OnsetMatch) => (2 * m.tp) / Math.max(2 * m.tp + m.fp + m.fn, 1)
const add = (a: OnsetMatch, b: OnsetMatch): OnsetMatch => ({ tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn })

/**
 * Segments every recording (`root`/path) and scores it against `root`/segmentation/<stem>.tsv: S1 and S2 onsets
 * pooled over the recordings, the heart rate per recording over its annotated stretch, and what the quality gate
 * flags. Every recording counts, flagged or not: the figures are the segmenter's, not the gate's.
 */
export async function evaluateSegmentation(paths: string[], root: string, tick?: (done: number) => void) {
  const start = performance.now()
  let s1 = { tp: 0, fp: 0, fn: 0 }
  let s2 = { tp: 0, fp: 0, fn: 0 }
  const errors: number[] = []
  const flagged = Object.fromEntries(QUALITY_REASONS.map((r) => [r, 0])) as Record<QualityReason, number>
  let qualityFlagged = 0
  let segmentMs = 0
  for (const [i, path] of paths.entries()) {
    const annotation = readAnnotation(join(root, 'segmentation', `${basename(path, extname(path))}.tsv`))
    const { signal } = await recordingFeatures(join(root, path), DEFAULT_FRONTEND)
    const t0 = performance.now()
    const segmentation = segmentHeartCycles(signal, DEFAULT_FRONTEND.sample_rate)
    const quality = assessQuality(signal, DEFAULT_FRONTEND.sample_rate, segmentation)
    segmentMs += performance.now() - t0
    if (!quality.ok) qualityFlagged++
    for (const r of quality.reasons) flagged[r]++
    s1 = add(s1, matchOnsets(segmentation?.s1_onsets ?? [], annotation, 1, TOLERANCE_S))
    s2 = add(s2, matchOnsets(segmentation?.s2_onsets ?? [], annotation, 3, TOLERANCE_S))
    // the rate over the annotated stretch, from the same cycles the annotation's rate counts
    const annotated = annotation.filter((s) => s.code !== 0)
    const reference = annotatedRate(annotation)
    const detected =
      segmentation &&
      annotated.length &&
      heartRateOf(segmentation, annotated[0]!.start_s - TOLERANCE_S, annotated.at(-1)!.end_s)
    if (reference !== null) errors.push(detected ? Math.abs(detected.bpm - reference) : reference)
    tick?.(i + 1)
  }
  const sorted = [...errors].sort((a, b) => a - b)
  const share = (n: number, of: number) => Number((n / Math.max(of, 1)).toFixed(4))
  return {
    n_recordings: paths.length,
    hr_mae_bpm: Number((errors.reduce((a, b) => a + b, 0) / Math.max(errors.length, 1)).toFixed(2)),
    hr_median_error_bpm: Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(2)),
    hr_within_5_bpm: share(errors.filter((e) => e <= 5).length, errors.length),
    s1_f1: Number(f1(s1).toFixed(3)),
    s2_f1: Number(f1(s2).toFixed(3)),
    s1,
    s2,
    tolerance_s: TOLERANCE_S,
    quality_flagged: qualityFlagged,
    quality_flagged_share: share(qualityFlagged, paths.length),
    quality_reasons: flagged,
    seconds: Number(((performance.now() - start) / 1000).toFixed(1)),
    segmentation_and_quality_ms_per_recording: Number((segmentMs / Math.max(paths.length, 1)).toFixed(1)),
  }
}
