import type { Command } from 'commander'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runRows } from '../../core/analysis/evaluate'
import { readManifest } from '../../core/analysis/manifest'
import { assessQuality } from '../../core/analysis/quality'
import { recordingFeatures } from '../../core/analysis/recording'
import { segmentHeartCycles } from '../../core/analysis/segmentation'
import { circorDir } from '../../core/data'
import { InputError } from '../../core/errors'
import type { ModelCard } from '../../core/api/model-card'
import { precisionOf, type Precision } from '../../core/api/model-card'
import { defaultModelPath, loadModelCard } from '../../core/model/card'
import { OnnxModel } from '../../core/model/engine'
import { runPythonModule } from '../python'
import { runCommand } from '../run'
import { startInference } from '../inference'
import { positiveInt } from '../options'
import { progress } from './evaluate'

interface BenchOptions {
  model?: string
  files: string
  all?: boolean
  repeats: string
  rounds: string
  threads?: string
  json?: boolean
  python: boolean
  evaluate: boolean
}

interface PythonBench {
  median_ms: number
  runtime: string
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** One real window: the first window_frames frames of the first CirCor recording that long (else a fixed signal). */
async function benchWindow(card: ModelCard): Promise<{ data: Float32Array; signal: Float32Array; source: string }> {
  const { hop_length, n_fft } = card.frontend
  const samples = (card.windowing.window_frames - 1) * hop_length + n_fft
  const frames = card.windowing.window_frames
  const nMels = card.frontend.n_mels
  try {
    const manifest = readManifest(join(circorDir(), 'manifest.csv'), 'label_patient')
    for (const row of manifest.rows.slice(0, 50)) {
      const f = await recordingFeatures(row.path, card.frontend)
      if (f.frames >= frames) {
        const data = f.data.slice(0, frames * nMels)
        return { data, signal: f.signal.slice(0, samples), source: `${row.file} frames 0-${frames}` }
      }
    }
  } catch {
    // no corpus: fall through to a synthetic window
  }
  const data = Float32Array.from({ length: frames * nMels }, (_, i) => -8 + 3 * Math.sin(i * 0.37))
  const signal = Float32Array.from({ length: samples }, (_, i) => 0.1 * Math.sin(i * 0.07))
  return { data, signal, source: 'synthetic' }
}

/** Median ms of the heart-cycle segmentation + quality gate on one window's samples (what classify adds to it). */
function segmentationMs(signal: Float32Array, rate: number, repeats: number): number {
  const times: number[] = []
  for (let i = 0; i < repeats + 3; i++) {
    const start = performance.now()
    assessQuality(signal, rate, segmentHeartCycles(signal, rate))
    times.push(performance.now() - start)
  }
  return median(times.slice(3))
}

/**
 * Median ms of session.run on one [1, 1, frames, nMels] window in this process, after 3 warm-up runs, on the very file
 * given (its own precision: never swapped for its int8 twin, since Python runs that file).
 */
async function nodeMs(
  modelPath: string,
  precision: Precision,
  threads: number,
  input: Float32Array,
  frames: number,
  repeats: number,
) {
  const model = await OnnxModel.load({ modelPath, provider: 'cpu', threads, precision })
  const batch = { batch: 1, frames, nMels: model.nMels, data: input }
  for (let i = 0; i < 3; i++) await model.infer(batch)
  const times: number[] = []
  for (let i = 0; i < repeats; i++) times.push((await model.infer(batch)).ms)
  await model.release()
  return median(times)
}

export function registerBenchInference(bench: Command): void {
  bench
    .command('inference', { isDefault: true })
    .description(
      'ms per window for onnxruntime-node (1 and 2 threads) vs Python onnxruntime on the same model and input; ' +
        'end-to-end evaluate throughput on CirCor; peak memory (the default `bench` subcommand)',
    )
    .option('--model <path>', 'ONNX model with its card (default: models/phonoscope-cnn-att.onnx)')
    .option('--files <n>', 'CirCor recordings for the end-to-end throughput (manifest order, labelled rows)', '200')
    .option('--all', 'the end-to-end throughput on every labelled CirCor recording')
    .option('--repeats <n>', 'timed runs per measurement', '30')
    .option('--rounds <n>', 'alternate node and Python this many times; the best median counts (noisy machines)', '2')
    .option('--threads <n>', 'intra-op threads for the end-to-end run (default: 2 or fewer cores)')
    .option('--no-python', 'skip the Python onnxruntime comparison')
    .option('--no-evaluate', 'skip the end-to-end evaluate throughput')
    .option('--json', 'print one JSON object')
    .action((options: BenchOptions) =>
      runCommand(async () => {
        const modelPath = options.model ?? defaultModelPath()
        const card = loadModelCard(modelPath)
        const repeats = positiveInt(options.repeats, '--repeats')!
        const rounds = positiveInt(options.rounds, '--rounds')!
        const frames = card.windowing.window_frames
        const log = (line: string) => process.stderr.write(`${line}\n`)
        const { data, signal, source } = await benchWindow(card)
        const segmentationQualityMs = segmentationMs(signal, card.frontend.sample_rate, repeats)
        const dir = mkdtempSync(join(tmpdir(), 'phonoscope-bench-'))
        const inputFile = join(dir, 'window.f32')
        writeFileSync(inputFile, Buffer.from(data.buffer, data.byteOffset, data.byteLength))
        const best: Record<string, number> = {}
        const keep = (key: string, ms: number) => (best[key] = Math.min(best[key] ?? Infinity, ms))
        let pythonRuntime: string | undefined
        try {
          for (let round = 0; round < rounds; round++) {
            for (const threads of [1, 2]) {
              log(`round ${round + 1}/${rounds}, ${threads} thread(s): onnxruntime-node...`)
              keep(`node_${threads}`, await nodeMs(modelPath, precisionOf(card), threads, data, frames, repeats))
              if (!options.python) continue
              log(`round ${round + 1}/${rounds}, ${threads} thread(s): Python onnxruntime...`)
              const args = ['bench', '--model', modelPath, '--input', inputFile, '--frames', String(frames)]
              const py = JSON.parse(
                await runPythonModule('onnx_eval', [
                  ...args,
                  '--threads',
                  String(threads),
                  '--repeats',
                  String(repeats),
                ]),
              ) as PythonBench
              pythonRuntime = py.runtime
              keep(`python_${threads}`, py.median_ms)
            }
          }
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
        const perWindow = [1, 2].map((threads) => ({
          threads,
          node_ms: best[`node_${threads}`]!,
          python_ms: best[`python_${threads}`] ?? null,
          ratio_node_over_python: best[`python_${threads}`]
            ? best[`node_${threads}`]! / best[`python_${threads}`]!
            : null,
        }))

        let endToEnd: Record<string, unknown> | undefined
        if (options.evaluate) {
          const manifest = readManifest(join(circorDir(), 'manifest.csv'), 'label_patient')
          const rows = options.all ? manifest.rows : manifest.rows.slice(0, positiveInt(options.files, '--files'))
          if (rows.length === 0) throw new InputError(circorDir(), 'no labelled CirCor recording')
          const { client, info } = await startInference({
            model: modelPath,
            provider: 'cpu',
            precision: precisionOf(card),
            threads: options.threads,
            spinning: false,
          })
          try {
            const run = await runRows(rows, info.card, client, { onProgress: progress(rows.length, 'end-to-end') })
            const host = await client.stats()
            endToEnd = {
              recordings: rows.length,
              failed: run.failures.length,
              audio_s: run.timings.audio_s,
              wall_s: run.timings.wall_s,
              x_realtime: run.timings.audio_s / run.timings.wall_s,
              front_end_s: run.timings.features_s,
              threads: info.threads,
              corpus_recordings: manifest.rows.length,
              projected_full_corpus_s: options.all
                ? run.timings.wall_s
                : (run.timings.wall_s / rows.length) * manifest.rows.length,
              host_peak_rss_mb: host.maxRssBytes / 2 ** 20,
            }
          } finally {
            await client.close()
          }
        }
        const result = {
          model: { name: card.name, path: modelPath },
          window: { frames, input: source },
          repeats,
          rounds,
          python_runtime: pythonRuntime ?? null,
          per_window: perWindow,
          segmentation_quality_ms: segmentationQualityMs,
          end_to_end: endToEnd ?? null,
          cli_peak_rss_mb: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
        }
        if (options.json) return void console.log(JSON.stringify(result))
        console.log(
          `model ${card.name}, one ${frames}-frame window (${source}), median of ${repeats}, best of ${rounds} round(s)`,
        )
        for (const p of perWindow) {
          const py =
            p.python_ms === null
              ? ''
              : `   Python onnxruntime ${p.python_ms.toFixed(1)} ms   ratio node/Python ${p.ratio_node_over_python!.toFixed(3)}`
          console.log(`  ${p.threads} thread(s): onnxruntime-node ${p.node_ms.toFixed(1)} ms${py}`)
        }
        console.log(
          `  heart-cycle segmentation + quality gate (TypeScript, 1 thread): ${segmentationQualityMs.toFixed(1)} ms`,
        )
        if (endToEnd) {
          const e = endToEnd as {
            corpus_recordings: number
            recordings: number
            audio_s: number
            wall_s: number
            x_realtime: number
            front_end_s: number
            threads: number
            projected_full_corpus_s: number
            host_peak_rss_mb: number
            failed: number
          }
          console.log(
            `end to end (evaluate pipeline, ${e.threads} inference thread(s)): ${e.recordings} recordings, ${e.audio_s.toFixed(0)} s of audio in ${e.wall_s.toFixed(1)} s = ${e.x_realtime.toFixed(0)} x real time (decode + front end ${e.front_end_s.toFixed(1)} s in worker threads, ${e.failed} failed)`,
          )
          console.log(
            `  all ${e.corpus_recordings} labelled CirCor recordings: ${options.all ? 'measured' : 'projected'} ${e.projected_full_corpus_s.toFixed(0)} s (goal < 60 s)`,
          )
          console.log(
            `peak RSS: CLI ${result.cli_peak_rss_mb.toFixed(0)} MB, inference host ${e.host_peak_rss_mb.toFixed(0)} MB`,
          )
        } else console.log(`peak RSS: ${result.cli_peak_rss_mb.toFixed(0)} MB`)
      }),
    )
}
