import type { Command } from 'commander'
import { dirname, resolve } from 'node:path'
import { readCsvTable } from '../../core/analysis/manifest'
import { evaluateSegmentation, TOLERANCE_S } from '../../core/analysis/segmentation-eval'
import { InputError } from '../../core/errors'
import { runCommand } from '../run'
import { progress } from './evaluate'

interface SegmentationOptions {
  manifest: string
  root?: string
  fold?: string[]
  json?: boolean
}

/** The manifest's audio paths (column `path` or `file`), those of the chosen folds when --fold is given. */
function manifestPaths(manifest: string, folds: string[] | undefined): string[] {
  const { records, column, pathColumn } = readCsvTable(manifest)
  if (pathColumn < 0) throw new InputError(manifest, 'has no "path" or "file" column')
  const foldColumn = column('fold')
  if (folds && foldColumn < 0) throw new InputError(manifest, '--fold needs a "fold" column')
  return records.filter((r) => !folds || folds.includes(r[foldColumn]!)).map((r) => r[pathColumn]!)
}

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
        const report = {
          manifest: options.manifest,
          ...(await evaluateSegmentation(paths, root, progress(paths.length, 'evaluate-segmentation'))),
        }
        if (options.json) return void console.log(JSON.stringify(report))
        console.log(`${options.manifest}: ${paths.length} recordings`)
        console.log(
          `heart rate  MAE ${report.hr_mae_bpm} bpm, median error ${report.hr_median_error_bpm} bpm, within 5 bpm ${(100 * report.hr_within_5_bpm).toFixed(1)} %`,
        )
        console.log(`S1 onsets   F1 ${report.s1_f1} (+-${1000 * TOLERANCE_S} ms)`)
        console.log(`S2 onsets   F1 ${report.s2_f1}`)
        const reasons = Object.entries(report.quality_reasons).filter(([, n]) => n > 0)
        console.log(
          `quality     ${report.quality_flagged} flagged (${(100 * report.quality_flagged_share).toFixed(1)} %)${reasons.length ? ': ' + reasons.map(([r, n]) => `${r} ${n}`).join(', ') : ''}`,
        )
        console.log(
          `${report.seconds} s, segmentation + quality ${report.segmentation_and_quality_ms_per_recording} ms per recording`,
        )
      }),
    )
}
