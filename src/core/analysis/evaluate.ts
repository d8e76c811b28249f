import { existsSync } from 'node:fs'
import { CLASSES, type ClassName } from '../api/classes'
import type { ModelCard, PatientRule } from '../api/model-card'
import { aggregateRecordings, toRecord, type Probabilities } from './aggregate'
import { classifyFeatures, type Inferer } from './classify'
import type { Quality } from './quality'
import type { ManifestRow } from './manifest'
import { summarize } from './metrics'
import { recordingFeatures } from './recording'

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
  /** recordings whose inference may be in flight while the next one's features are computed (default 3) */
  lookahead?: number
  onProgress?: (done: number, total: number) => void
}

export interface RunTimings {
  wall_s: number
  /** main-thread seconds spent on decode + front end */
  features_s: number
  audio_s: number
}

/**
 * Classifies every row: decode + front end on this thread while the inference host runs the previous recordings'
 * windows (up to `lookahead` recordings in flight), so the two overlap on two cores. A row that fails (bad audio,
 * missing file, host crash) is recorded with its reason and the run goes on.
 */
export async function runRows(
  rows: ManifestRow[],
  card: ModelCard,
  inferer: Inferer,
  options: RunOptions = {},
): Promise<{ results: RowResult[]; failures: RowFailure[]; timings: RunTimings }> {
  const lookahead = options.lookahead ?? 3
  const results: RowResult[] = []
  const failures: RowFailure[] = []
  const inflight = new Set<Promise<void>>()
  const start = performance.now()
  let featureMs = 0
  let audio = 0
  let done = 0
  const finish = () => options.onProgress?.(++done, rows.length)
  const fail = (row: ManifestRow, error: unknown) =>
    failures.push({
      line: row.line,
      file: row.file,
      reason: (error instanceof Error ? error.message : String(error)).split('\n')[0]!,
    })
  for (const row of rows) {
    const t0 = performance.now()
    let features
    try {
      if (!existsSync(row.path)) throw new Error(`${row.path}: file not found`)
      features = await recordingFeatures(row.path, card.frontend)
    } catch (error) {
      fail(row, error)
      finish()
      continue
    } finally {
      featureMs += performance.now() - t0
    }
    audio += features.durationS
    const job = classifyFeatures(features, card, inferer, options.hopFrames)
      .then(
        (r) => {
          results.push({
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
          })
        },
        (error) => {
          fail(row, error)
        },
      )
      .finally(() => {
        inflight.delete(job)
        finish()
      })
    inflight.add(job)
    if (inflight.size >= lookahead) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  results.sort((a, b) => a.line - b.line)
  failures.sort((a, b) => a.line - b.line)
  const timings = { wall_s: (performance.now() - start) / 1000, features_s: featureMs / 1000, audio_s: audio }
  return { results, failures, timings }
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
