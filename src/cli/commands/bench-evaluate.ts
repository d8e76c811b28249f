import type { Command } from 'commander'
import { join } from 'node:path'
import { runRows } from '../../core/analysis/evaluate'
import type { Inferer } from '../../core/analysis/classify'
import { readManifest, type ManifestRow } from '../../core/analysis/manifest'
import { defaultJobs } from '../../core/analysis/recording-pool'
import { circorDir } from '../../core/data'
import { InputError } from '../../core/errors'
import type { ModelCard } from '../../core/api/model-card'
import { defaultModelPath } from '../../core/model/card'
import type { InferenceClient } from '../../core/model/client'
import { runPythonModule } from '../python'
import { runCommand } from '../run'
import { startInference } from '../inference'
import { positiveInt } from '../options'
import { progress } from './evaluate'

interface BenchEvaluateOptions {
  model?: string
  files: string
  jobs?: string
  threads?: string
  precision?: string
  rounds: string
  python: boolean
  json?: boolean
}

/** bench_evaluate.py's figures: the plain Python pipeline on the same recordings. */
interface PythonPipeline {
  files: number
  failed: number
  audio_s: number
  compute_s: number
  front_end_s: number
  cpu_s: number
  runtime: string
  threads: number
}

interface Throughput {
  audio_s: number
  wall_s: number
  features_s: number
  /** seconds inside session.run, summed over the windows */
  session_s: number
  /** CPU seconds of this process (main thread + workers) and of the inference host: where the cores went */
  cli_cpu_s: number
  host_cpu_s: number
  failed: number
}

/** One timed run of the evaluate pipeline, with the CPU it took in this process and in the host. */
async function timedRun(rows: ManifestRow[], client: InferenceClient, card: ModelCard, jobs: number, label: string) {
  let sessionMs = 0
  const counted: Inferer = {
    infer: async (input) => {
      const output = await client.infer(input)
      sessionMs += output.ms
      return output
    },
  }
  const host = (await client.stats()).cpuMicros
  const cli = process.cpuUsage()
  const run = await runRows(rows, card, counted, { jobs, onProgress: progress(rows.length, label) })
  const { user, system } = process.cpuUsage(cli)
  return {
    ...run.timings,
    session_s: sessionMs / 1000,
    cli_cpu_s: (user + system) / 1e6,
    host_cpu_s: ((await client.stats()).cpuMicros - host) / 1e6,
    failed: run.failures.length,
  }
}

const PYTHON_THREADS = 2

export function registerBenchEvaluate(bench: Command): void {
  bench
    .command('evaluate')
    .description(
      `evaluate throughput (decode + front end + quality gate in workers, inference in the host) vs a plain Python ` +
        `pipeline (soundfile + librosa + onnxruntime, ${PYTHON_THREADS} threads) on the same CirCor recordings`,
    )
    .option('--model <path>', 'ONNX model with its card (default: models/phonoscope-cnn-att.onnx)')
    .option('--files <n>', 'CirCor recordings (manifest order, labelled rows)', '200')
    .option('--jobs <n>', 'worker threads for the TypeScript side (default: cores - 1, at least 1)')
    .option('--threads <n>', `onnxruntime intra-op threads for the TypeScript side (default: ${PYTHON_THREADS})`)
    .option('--precision <p>', 'auto (int8 twin where its CV allows), fp32 or int8; Python runs the same file', 'auto')
    .option('--rounds <n>', 'alternate Python and TypeScript this many times; the best round of each counts', '1')
    .option('--no-python', 'skip the Python pipeline')
    .option('--json', 'print one JSON object')
    .action((options: BenchEvaluateOptions) =>
      runCommand(async () => {
        const modelPath = options.model ?? defaultModelPath()
        const count = positiveInt(options.files, '--files')!
        const jobs = positiveInt(options.jobs, '--jobs') ?? defaultJobs()
        const rounds = positiveInt(options.rounds, '--rounds')!
        const manifest = readManifest(join(circorDir(), 'manifest.csv'), 'label_patient')
        const rows = manifest.rows.slice(0, count)
        if (rows.length === 0) throw new InputError(circorDir(), 'no labelled CirCor recording')
        const { client, info } = await startInference({
          model: modelPath,
          provider: 'cpu',
          threads: options.threads ?? String(PYTHON_THREADS),
          precision: options.precision,
          spinning: false,
        })
        let typescript: Throughput | undefined
        let python: PythonPipeline | undefined
        try {
          await runRows(rows.slice(0, 1), info.card, client, { jobs }) // warm-up, as the Python side has
          for (let round = 0; round < rounds; round++) {
            if (options.python) {
              process.stderr.write(`round ${round + 1}/${rounds}: Python pipeline on ${rows.length} recordings...\n`)
              const args = ['--model', info.path, '--threads', String(PYTHON_THREADS)]
              const stdin = rows.map((r) => r.path).join('\n') + '\n'
              const run = JSON.parse(await runPythonModule('bench_evaluate', args, stdin)) as PythonPipeline
              if (!python || run.compute_s < python.compute_s) python = run
            }
            const run = await timedRun(rows, client, info.card, jobs, `round ${round + 1}/${rounds}: TypeScript`)
            if (!typescript || run.wall_s < typescript.wall_s) typescript = run
          }
        } finally {
          await client.close()
        }
        const ts = typescript!
        const tsX = ts.audio_s / ts.wall_s
        const pyX = python ? python.audio_s / python.compute_s : null
        const result = {
          recordings: rows.length,
          rounds,
          typescript: { ...ts, x_realtime: tsX, jobs, inference_threads: info.threads },
          python: python ? { ...python, x_realtime: pyX } : null,
          ratio_typescript_over_python: pyX === null ? null : tsX / pyX,
        }
        if (options.json) return void console.log(JSON.stringify(result))
        console.log(
          `recordings   ${rows.length} CirCor (${(ts.audio_s / 3600).toFixed(2)} h of audio), best of ${rounds}`,
        )
        console.log(
          `TypeScript   ${tsX.toFixed(0)} x real time (${ts.wall_s.toFixed(1)} s; ${jobs} worker(s), ${info.threads} inference thread(s), ${info.precision}; workers' decode + front end ${ts.features_s.toFixed(1)} s; ${ts.failed} failed)`,
        )
        console.log(
          `  session.run ${ts.session_s.toFixed(1)} s; CPU: CLI (main + workers) ${ts.cli_cpu_s.toFixed(1)} s, inference host ${ts.host_cpu_s.toFixed(1)} s`,
        )
        if (python) {
          console.log(
            `Python       ${pyX!.toFixed(0)} x real time (${python.compute_s.toFixed(1)} s; soundfile + librosa front end ${python.front_end_s.toFixed(1)} s, CPU ${python.cpu_s.toFixed(1)} s, ${python.runtime}, ${python.threads} threads; ${python.failed} failed)`,
          )
          console.log(`ratio TS / Python  ${result.ratio_typescript_over_python!.toFixed(2)} (goal >= 2)`)
        }
      }),
    )
}
