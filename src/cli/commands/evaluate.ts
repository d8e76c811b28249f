import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { resolve } from 'node:path'
import { modelSummary } from '../../core/analysis/classify'
import { graded, metricsOf, runRows, type LevelReport, type RowResult } from '../../core/analysis/evaluate'
import { readManifest } from '../../core/analysis/manifest'
import { InputError } from '../../core/errors'
import { CLASSES } from '../../core/api/classes'
import type { PatientRule } from '../../core/api/model-card'
import { runCommand } from '../run'
import { startInference, type InferenceCliOptions, inferenceOptions } from '../inference'
import { positiveInt } from '../options'

interface EvaluateOptions extends InferenceCliOptions {
  manifest: string
  root?: string
  labelColumn: string
  json?: boolean
  recordings?: boolean
  hopFrames?: string
  limit?: string
  jobs?: string
  /** false with --no-quality-gate */
  qualityGate: boolean
}

/** A progress bar on stderr (a terminal), or a line every 10 % otherwise. */
export function progress(total: number, label: string): (done: number) => void {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `${label} [{bar}] {value}/{total} {eta_formatted} left`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0)
    return (done) => {
      bar.update(done)
      if (done === total) bar.stop()
    }
  }
  let shown = 0
  return (done) => {
    const tenth = Math.floor((10 * done) / Math.max(total, 1))
    if (tenth > shown || done === total) {
      shown = tenth
      process.stderr.write(`${label}: ${done}/${total}\n`)
    }
  }
}

const fmt = (v: number | null) => (v === null ? '  n/a' : v.toFixed(3))

function printLevel(name: string, l: LevelReport): void {
  console.log(`${name} level (n=${l.n}): UAR ${fmt(l.uar)}, accuracy ${fmt(l.accuracy)}`)
  console.log(`  ${'class'.padEnd(16)} recall precision   AUC   confusion (predicted ${CLASSES.join(' / ')})`)
  CLASSES.forEach((c, i) =>
    console.log(
      `  ${c.padEnd(16)} ${fmt(l.recall[c])}  ${fmt(l.precision[c])}   ${fmt(l.auc[c])}  ${l.confusion[i]!.map((v) => String(v).padStart(5)).join(' ')}`,
    ),
  )
}

/** The UARs with every recording graded, as before the gate: what the rest's figures compare with. */
function ungatedUar(results: RowResult[], rule: PatientRule) {
  const all = metricsOf(results, rule)
  return { recording_uar: all.recording.uar, patient_uar: all.patient.uar }
}

/** How many withheld recordings name each reason. */
function withheldReasons(results: RowResult[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const r of results)
    if (r.quality?.ok === false) for (const why of r.quality.reasons) counts[why] = (counts[why] ?? 0) + 1
  return counts
}

export function registerEvaluate(program: Command): void {
  inferenceOptions(
    program
      .command('evaluate')
      .description(
        'classify every row of a manifest and report recording- and patient-level UAR, recall, precision, AUC',
      )
      .requiredOption('--manifest <csv>', 'CSV with columns path (or file), patient_id and the label column')
      .option('--root <dir>', "folder the manifest paths are relative to (default: the manifest's folder)")
      .option(
        '--label-column <name>',
        'label column (rows with other labels than the 3 classes are skipped)',
        'label_patient',
      )
      .option('--hop-frames <n>', "hop between windows in frames (default: the model card's)")
      .option('--limit <n>', 'only the first n rows with a valid label')
      .option('--jobs <n>', 'worker threads for decode + front end + quality gate (default: cores - 1, at least 1)')
      .option('--json', 'print one JSON object')
      .option('--no-quality-gate', "grade every recording, as the model alone would (the Python evaluation's figures)")
      .option('--recordings', "with --json: include every recording's and patient's probabilities"),
  ).action((options: EvaluateOptions) =>
    runCommand(async () => {
      const hop = positiveInt(options.hopFrames, '--hop-frames')
      const limit = positiveInt(options.limit, '--limit')
      const jobs = positiveInt(options.jobs, '--jobs')
      const manifest = readManifest(options.manifest, options.labelColumn, options.root && resolve(options.root))
      const rows = limit ? manifest.rows.slice(0, limit) : manifest.rows
      if (rows.length === 0) throw new InputError(options.manifest, `no row has a label among ${CLASSES.join(', ')}`)
      // the front end runs in workers while the host infers: no busy-waiting onnxruntime threads
      const { client, info } = await startInference({ ...options, spinning: false })
      let run
      try {
        run = await runRows(rows, info.card, client, {
          hopFrames: hop,
          jobs,
          onProgress: progress(rows.length, 'evaluate'),
        })
      } finally {
        await client.close()
      }
      const { results, failures, timings } = run
      if (results.length === 0) {
        throw new InputError(
          options.manifest,
          `no row could be evaluated (${failures.length} failed; first: ${failures[0]?.reason})`,
        )
      }
      const passed = options.qualityGate ? graded(results) : results
      const m = metricsOf(passed, info.card)
      const everyone = new Set(results.map((r) => r.patient_id))
      const withheldPatients = everyone.size - m.patients.length
      const report = {
        manifest: options.manifest,
        label_column: manifest.labelColumn,
        n_recordings: results.length,
        n_patients: everyone.size,
        aggregation: info.card.aggregation,
        // recording and patient metrics are of the rest: a withheld recording enters neither, a patient all of
        // whose recordings were withheld has no verdict
        withheld_recordings: results.length - passed.length,
        withheld_patients: withheldPatients,
        withheld_reasons: withheldReasons(results),
        ungated: ungatedUar(results, info.card),
        recording: m.recording,
        patient: m.patient,
        skipped: manifest.skipped,
        failed: failures.length,
        failed_rows: failures,
        model: modelSummary(info),
        provider: info.provider,
        seconds: Number(timings.wall_s.toFixed(2)),
        audio_s: Number(timings.audio_s.toFixed(1)),
        x_realtime: Number((timings.audio_s / timings.wall_s).toFixed(1)),
        ...(options.recordings ? { recordings: results, patients: m.patients } : {}),
      }
      for (const f of failures) process.stderr.write(`phonoscope: row ${f.line} failed: ${f.reason}\n`)
      if (options.json) return void console.log(JSON.stringify(report))
      console.log(
        `${manifest.path}: ${results.length} recordings, ${everyone.size} patients (label ${manifest.labelColumn}, patient rule ${info.card.aggregation})`,
      )
      const reasons = Object.entries(report.withheld_reasons).map(([r, n]) => `${r} ${n}`)
      console.log(
        `withheld by the quality gate: ${report.withheld_recordings} recordings (${(100 * (report.withheld_recordings / results.length)).toFixed(1)} %), ${withheldPatients} patients${reasons.length ? ` (${reasons.join(', ')})` : ''}; the figures below are of the rest`,
      )
      printLevel('recording', m.recording)
      printLevel('patient', m.patient)
      console.log(
        `with no quality gate: recording UAR ${fmt(report.ungated.recording_uar)}, patient UAR ${fmt(report.ungated.patient_uar)}`,
      )
      console.log(`skipped ${manifest.skipped} (label not a class), failed ${failures.length}`)
      console.log(
        `${timings.audio_s.toFixed(0)} s of audio in ${timings.wall_s.toFixed(1)} s (${report.x_realtime} x real time)`,
      )
    }),
  )
}
