import { existsSync } from 'node:fs'
import { CLASSES, type ClassName } from '../api/classes'
import type { ModelCard, PatientRule } from '../api/model-card'
import { aggregateRecordings, toRecord, type Probabilities } from './aggregate'
import type { Inferer, RecordingResult } from './classify'
import type { Quality } from './quality'
import type { ManifestRow } from './manifest'
import { summarize } from './metrics'
import { RecordingPool } from './recording-pool'

export interface RowResult {
  line: number
  file: string
  patient_id: string
  label: ClassName
  frames: number
  duration_s: number
  windows: number
  probabilities: Probabilities
  /** the quality gate's verdict on the recording (runRows always sets it): a withheld one is left out of the
   * metrics and the patients by `graded` */
  quality?: Quality
  heart_rate_bpm?: number | null
}

export interface RowFailure {
  line: number
  file: string
  reason: string
}

export interface RunOptions {
  hopFrames?: number
  /** worker threads for decode + front end + quality gate (RecordingPool; default cores - 1, at least 1) */
  jobs?: number
  onProgress?: (done: number, total: number) => void
}

export interface RunTimings {
  wall_s: number
  /** seconds the workers spent on decode + front end (off the main thread, overlapping inference) */
  features_s: number
  audio_s: number
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!

function rowResult(row: ManifestRow, r: RecordingResult): RowResult {
  return {
    line: row.line,
    file: row.file,
    patient_id: row.patientId,
    label: row.label,
    frames: r.frames,
    duration_s: r.duration_s,
    windows: r.windows.length,
    probabilities: r.probabilities,
    quality: r.verdict === null ? { ...r.quality, ok: false } : r.quality,
    heart_rate_bpm: r.heart_rate && r.heart_rate.bpm,
  }
}

/**
 * Classifies every row: decode, front end, segmentation and quality gate in a RecordingPool's workers while the
 * inference host runs the earlier recordings' windows, so they overlap; results come in manifest order. A row that
 * fails (bad audio, missing file, host crash) is recorded with its reason and the run goes on.
 */
export async function runRows(
  rows: ManifestRow[],
  card: ModelCard,
  inferer: Inferer,
  options: RunOptions = {},
): Promise<{ results: RowResult[]; failures: RowFailure[]; timings: RunTimings }> {
  const pool = new RecordingPool({ card, hopFrames: options.hopFrames, jobs: options.jobs })
  const start = performance.now()
  let featuresS = 0
  let audio = 0
  let done = 0
  try {
    const outcomes = await Promise.all(
      rows.map(async (row): Promise<RowResult | RowFailure> => {
        try {
          if (!existsSync(row.path)) throw new Error(`${row.path}: file not found`)
          const { value, features_s } = await pool.classify(row.path, inferer)
          featuresS += features_s
          audio += value.duration_s
          return rowResult(row, value)
        } catch (error) {
          return { line: row.line, file: row.file, reason: firstLine(error) }
        } finally {
          options.onProgress?.(++done, rows.length)
        }
      }),
    )
    const results = outcomes.filter((o): o is RowResult => 'probabilities' in o)
    const failures = outcomes.filter((o): o is RowFailure => 'reason' in o)
    const timings = { wall_s: (performance.now() - start) / 1000, features_s: featuresS, audio_s: audio }
    return { results, failures, timings }
  } finally {
    await pool.close()
  }
}

/** The rows the quality gate passed: what the metrics of the rest are computed on. */
export const graded = (results: RowResult[]): RowResult[] => results.filter((r) => r.quality?.ok !== false)

export interface LevelReport {
  n: number
  uar: number | null
  recall: Record<ClassName, number | null>
  precision: Record<ClassName, number | null>
  /** confusion[true][predicted], class order normal, mild, moderate_severe */
  confusion: number[][]
  auc: Record<ClassName, number | null>
  accuracy: number | null
}

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v)
const perClass = (values: number[]) =>
  Object.fromEntries(CLASSES.map((c, i) => [c, orNull(values[i]!)])) as Record<ClassName, number | null>

function level(truth: number[], probs: number[][]): LevelReport {
  const s = summarize(truth, probs, CLASSES.length)
  return {
    n: s.n,
    uar: orNull(s.uar),
    recall: perClass(s.recall),
    precision: perClass(s.precision),
    confusion: s.confusion,
    auc: perClass(s.auc),
    accuracy: orNull(s.accuracy),
  }
}

export interface PatientResult {
  patient_id: string
  label: ClassName
  recordings: number
  probabilities: Probabilities
}

/**
 * Recording level: each recording against its row's label. Patient level: a patient's recordings aggregated by the
 * card's rule, against the label of its first row (label_patient is the same on every row of a patient).
 */
export function metricsOf(results: RowResult[], rule: PatientRule) {
  const idx = (c: ClassName) => CLASSES.indexOf(c)
  const vec = (p: Probabilities) => CLASSES.map((c) => p[c])
  const groups = new Map<string, RowResult[]>()
  for (const r of results) groups.set(r.patient_id, [...(groups.get(r.patient_id) ?? []), r])
  const patients: PatientResult[] = [...groups.keys()].sort().map((id) => {
    const rows = groups.get(id)!
    return {
      patient_id: id,
      label: rows[0]!.label,
      recordings: rows.length,
      probabilities: toRecord(
        aggregateRecordings(
          rows.map((r) => vec(r.probabilities)),
          rule,
        ).probabilities,
      ),
    }
  })
  return {
    recording: level(
      results.map((r) => idx(r.label)),
      results.map((r) => vec(r.probabilities)),
    ),
    patient: level(
      patients.map((p) => idx(p.label)),
      patients.map((p) => vec(p.probabilities)),
    ),
    patients,
  }
}
