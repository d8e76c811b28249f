import type { Command } from 'commander'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LIST_PAGE, type SessionInfo } from '../../core/api/app'
import { quantile } from '../../core/analysis/metrics'
import { artefactProducers } from '../../core/backend/artefacts'
import { importPaths, type ImportSummary } from '../../core/backend/import'
import { InputError } from '../../core/errors'
import type { InferenceClient } from '../../core/model/client'
import { RecordingPool } from '../../core/analysis/recording-pool'
import type { ModelCard } from '../../core/api/model-card'
import { SqliteStore } from '../../core/sessions/sqlite-store'
import { newSessionId } from '../../core/sessions/store'
import { positiveInt } from '../options'
import { runCommand } from '../run'
import { startInference } from '../inference'
import { corpusFiles } from './bench'
import { progress } from './evaluate'

interface RecordsBenchOptions {
  files: string
  exams: string
  rounds: string
  json?: boolean
  model?: string
}

const bytesIn = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0)

/** x real time of classifying every file as `evaluate` does: its pool's workers beside the inference host. */
async function evaluateSpeed(files: string[], card: ModelCard, inferer: InferenceClient): Promise<number> {
  const pool = new RecordingPool({ card })
  const start = performance.now()
  try {
    const done = await Promise.all(files.map((file) => pool.classify(file, inferer).catch(() => undefined)))
    const audio = done.reduce((n, r) => n + (r?.value.duration_s ?? 0), 0)
    return audio / ((performance.now() - start) / 1000)
  } finally {
    await pool.close()
  }
}

/** Milliseconds of each of `rounds` calls of `run`, after one warm-up. */
async function timed(rounds: number, run: () => Promise<unknown>): Promise<number[]> {
  await run()
  const times: number[] = []
  for (let i = 0; i < rounds; i++) {
    const start = performance.now()
    await run()
    times.push(performance.now() - start)
  }
  return times
}

const figures = (ms: number[]) => ({ median_ms: quantile(ms, 0.5), max_ms: Math.max(...ms) })

/**
 * The records' figures the issue asks for: import of CirCor recordings with classification (seconds, x real time),
 * a four-site examination's PDF report, `sessions list` over many synthetic exams, and the store's size per exam.
 * Everything is written to temporary homes, removed afterwards.
 */
async function benchRecords(options: RecordsBenchOptions) {
  const files = corpusFiles(positiveInt(options.files, '--files')!)
  const exams = positiveInt(options.exams, '--exams')!
  const rounds = positiveInt(options.rounds, '--rounds')!
  const home = mkdtempSync(join(tmpdir(), 'phonoscope-bench-records-'))
  const synthetic = mkdtempSync(join(tmpdir(), 'phonoscope-bench-list-'))
  let client: InferenceClient | undefined
  try {
    const started = await startInference(options)
    client = started.client
    const { card, name, sha256, provider } = started.info
    // import and its reference, every file classified as `evaluate` does (its RecordingPool), alternated `rounds`
    // times, the best of each counting (this machine's speed drifts by 10-15 % from minute to minute); each import
    // into a fresh store, the last one kept for the figures below
    let reference = 0
    let summary: ImportSummary | undefined
    let repository: SqliteStore | undefined
    for (let round = 0; round < rounds; round++) {
      reference = Math.max(reference, await evaluateSpeed(files, card, started.client))
      repository?.close()
      rmSync(home, { recursive: true, force: true })
      repository = new SqliteStore(home)
      const show = progress(files.length, `round ${round + 1}/${rounds}: import`)
      const run = await importPaths(files, {
        repository,
        model: async () => ({ inferer: started.client, card, name, sha256, provider }),
        onProgress: (done) => show(done),
      })
      if (!summary || run.seconds < summary.seconds) summary = run
    }
    if (!summary || !repository) throw new InputError('--rounds', 'must be at least 1')
    const imported = await repository.list()
    const audioS = imported.flatMap((s) => s.sites).reduce((n, s) => n + s.duration_s, 0)
    repository.close()
    const dbBytes = readdirSync(home)
      .filter((f) => f.startsWith('phonoscope.db'))
      .reduce((n, f) => n + statSync(join(home, f)).size, 0)

    const fourSites = imported.find((s) => s.sites.filter((site) => site.duration_s > 0).length >= 4)
    if (!fourSites) throw new InputError('--files', 'too few recordings for a four-site examination')
    const produce = artefactProducers(new SqliteStore(home), card)
    const report = await timed(rounds, () => produce.pdf({ session: fourSites.id }))

    // the list over `exams` exams like the imported ones (their windows, attention and all)
    const store = new SqliteStore(synthetic)
    const base = Date.parse('2020-01-01T00:00:00Z')
    for (let i = 0; i < exams; i++) {
      const template = imported[i % imported.length]!
      const created = new Date(base + i * 3_600_000)
      const copy: SessionInfo = { ...template, id: newSessionId(created), created: created.toISOString() }
      await store.create(copy)
    }
    // cold: a new store each time (as one `sessions list` runs); warm: the app's store listing again after an edit
    const cold = await timed(rounds, () => {
      const fresh = new SqliteStore(synthetic)
      return fresh.list().finally(() => fresh.close())
    })
    const list = await timed(rounds, () => store.list())
    const patientList = await timed(rounds, () => store.list({ patient: imported[0]!.patient }))
    // the page the app's list shows first (LIST_PAGE of the newest), from a fresh store and again
    const coldPage = await timed(rounds, () => {
      const fresh = new SqliteStore(synthetic)
      return fresh.list({ limit: LIST_PAGE }).finally(() => fresh.close())
    })
    const page = await timed(rounds, () => store.list({ limit: LIST_PAGE }))
    return {
      rounds,
      import: {
        recordings: summary.recordings,
        failed: summary.failed.length,
        exams: summary.exams,
        seconds: Number(summary.seconds.toFixed(1)),
        audio_s: Number(audioS.toFixed(0)),
        x_realtime: Number((audioS / summary.seconds).toFixed(1)),
        evaluate_x_realtime: Number(reference.toFixed(1)),
      },
      report_four_sites: figures(report),
      sessions_list: {
        exams,
        cold: figures(cold),
        warm: figures(list),
        one_patient_warm: figures(patientList),
        first_page: { exams: LIST_PAGE, cold: figures(coldPage), warm: figures(page) },
      },
      store: {
        exams: imported.length,
        database_bytes_per_exam: Math.round(dbBytes / imported.length),
        audio_bytes_per_exam: Math.round(bytesIn(join(home, 'sessions')) / imported.length),
      },
    }
  } finally {
    await client?.close()
    rmSync(home, { recursive: true, force: true })
    rmSync(synthetic, { recursive: true, force: true })
  }
}

export function registerRecordsBench(bench: Command): void {
  bench
    .command('records')
    .description('import with classification, a four-site PDF report, sessions list over many exams, store size')
    .option('--files <n>', 'how many CirCor recordings to import (the manifest order)', '1802')
    .option('--exams <n>', 'synthetic exams for the sessions list', '10000')
    .option(
      '--rounds <n>',
      'import and evaluate alternated this many times (the best of each counts); timed repeats of the report and the list',
      '3',
    )
    .option('--model <path>', 'ONNX model (default: the shipped one)')
    .option('--json', 'print one JSON object')
    .action((options: RecordsBenchOptions) =>
      runCommand(async () => {
        const result = await benchRecords(options)
        if (options.json) return void console.log(JSON.stringify(result))
        const { import: imp, report_four_sites: report, sessions_list: list, store } = result
        console.log(
          `import                ${imp.recordings} recordings (${imp.failed} failed), ${imp.audio_s} s of audio in ${imp.seconds} s: ${imp.x_realtime} x real time (evaluate's classification of the same files, alternated with it: ${imp.evaluate_x_realtime} x; best of ${result.rounds} each; goal: at least that)`,
        )
        console.log(
          `four-site PDF report  median ${report.median_ms.toFixed(0)} ms, max ${report.max_ms.toFixed(0)} ms (goal < 2000)`,
        )
        console.log(
          `sessions list         ${list.exams} exams: all of them median ${list.cold.median_ms.toFixed(0)} ms from a fresh store, ${list.warm.median_ms.toFixed(0)} ms listing again; one patient ${list.one_patient_warm.median_ms.toFixed(1)} ms`,
        )
        const first = list.first_page
        console.log(
          `                      the first page (newest ${first.exams}): median ${first.cold.median_ms.toFixed(1)} ms from a fresh store, ${first.warm.median_ms.toFixed(1)} ms again (goal < 100)`,
        )
        console.log(
          `store                 ${(store.database_bytes_per_exam / 1024).toFixed(1)} KiB database + ${(store.audio_bytes_per_exam / 1024).toFixed(0)} KiB audio per exam`,
        )
      }),
    )
}
