import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { annotatedRate, matchOnsets, readAnnotation, type OnsetMatch } from '../../core/analysis/annotation'
import { parseCsv } from '../../core/analysis/manifest'
import { assessQuality, QUALITY_REASONS, type QualityReason } from '../../core/analysis/quality'
import { recordingFeatures } from '../../core/analysis/recording'
import { heartRateOf, segmentHeartCycles } from '../../core/analysis/segmentation'
import { DEFAULT_FRONTEND } from '../../core/dsp/params'
import { InputError } from '../../core/errors'
import { runCommand } from '../run'
import { progress } from './evaluate'

/** CirCor's onset tolerance: a detected S1 or S2 onset within 60 ms of an annotated one is right (Springer 2016). */
const TOLERANCE_S = 0.06

interface SegmentationOptions {
  manifest: string
  root?: string
  fold?: string[]
  json?: boolean
}

/** The manifest's audio paths (column `path` or `file`), those of the chosen folds when --fold is given. */
function manifestPaths(manifest: string, folds: string[] | undefined): string[] {
  let text: string
  try {
    text = readFileSync(manifest, 'utf8')
  } catch {
    throw new InputError(manifest, 'manifest not found')
  }
  const [header, ...rows] = parseCsv(text)
  const pathColumn = header?.includes('path') ? header.indexOf('path') : (header?.indexOf('file') ?? -1)
  if (pathColumn < 0) throw new InputError(manifest, 'has no "path" or "file" column')
  const foldColumn = header!.indexOf('fold')
  if (folds && foldColumn < 0) throw new InputError(manifest, '--fold needs a "fold" column')
  return rows.filter((r) => !folds || folds.includes(r[foldColumn]!)).map((r) => r[pathColumn]!)
}

const f1 = (m: OnsetMatch) => (2 * m.tp) / Math.max(2 * m.tp + m.fp + m.fn, 1)
const add = (a: OnsetMatch, b: OnsetMatch): OnsetMatch => ({ tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn })

export function registerEvaluateSegmentation(program: Command): void {
  program
    .command('evaluate-segmentation')
    .description(
      "score the heart-cycle segmentation and heart rate against CirCor's annotations (<root>/segmentation/<stem>.tsv)",
    )
    .requiredOption('--manifest <csv>', 'CSV with a path (or file) column, relative to --root')
    .option('--root <dir>', "folder the manifest paths are relative to (default: the manifest's folder)")
    .option('--fold <k...>', 'only rows of these folds (the manifest\'s "fold" column), e.g. --fold 4 for held-out')
    .option('--json', 'print one JSON object')
    .action((options: SegmentationOptions) =>
      runCommand(async () => {
        const root = resolve(options.root ?? dirname(options.manifest))
        const paths = manifestPaths(options.manifest, options.fold)
        if (paths.length === 0) throw new InputError(options.manifest, 'no rows to evaluate')
        const tick = progress(paths.length, 'evaluate-segmentation')
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
          // every recording counts, flagged or not: the figures are the segmenter's, not the gate's
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
          tick(i + 1)
        }
        const sorted = [...errors].sort((a, b) => a - b)
        const report = {
          manifest: options.manifest,
          n_recordings: paths.length,
          hr_mae_bpm: Number((errors.reduce((a, b) => a + b, 0) / Math.max(errors.length, 1)).toFixed(2)),
          hr_median_error_bpm: Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(2)),
          hr_within_5_bpm: Number((errors.filter((e) => e <= 5).length / Math.max(errors.length, 1)).toFixed(3)),
          s1_f1: Number(f1(s1).toFixed(3)),
          s2_f1: Number(f1(s2).toFixed(3)),
          s1: s1,
          s2: s2,
          tolerance_s: TOLERANCE_S,
          quality_flagged: qualityFlagged,
          quality_flagged_share: Number((qualityFlagged / paths.length).toFixed(4)),
          quality_reasons: flagged,
          seconds: Number(((performance.now() - start) / 1000).toFixed(1)),
          segmentation_and_quality_ms_per_recording: Number((segmentMs / paths.length).toFixed(1)),
        }
        if (options.json) return void console.log(JSON.stringify(report))
        console.log(`${options.manifest}: ${paths.length} recordings`)
        console.log(
          `heart rate  MAE ${report.hr_mae_bpm} bpm, median error ${report.hr_median_error_bpm} bpm, within 5 bpm ${(100 * report.hr_within_5_bpm).toFixed(1)} %`,
        )
        console.log(`S1 onsets   F1 ${report.s1_f1} (+-${1000 * TOLERANCE_S} ms)`)
        console.log(`S2 onsets   F1 ${report.s2_f1}`)
        const reasons = Object.entries(flagged).filter(([, n]) => n > 0)
        console.log(
          `quality     ${qualityFlagged} flagged (${(100 * report.quality_flagged_share).toFixed(1)} %)${reasons.length ? ': ' + reasons.map(([r, n]) => `${r} ${n}`).join(', ') : ''}`,
        )
        console.log(
          `${report.seconds} s, segmentation + quality ${report.segmentation_and_quality_ms_per_recording} ms per recording`,
        )
      }),
    )
}
