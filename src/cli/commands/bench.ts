import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { circorDir } from '../../core/data'
import { computeFeatures } from '../../core/dsp/features'
import { InputError } from '../../core/errors'
import { runCommand } from '../run'
import { runPythonModule } from '../python'
import { registerDecodeBench } from './bench-decode'
import { registerBenchEvaluate } from './bench-evaluate'
import { registerBenchInference } from './bench-inference'
import { positiveInt } from '../options'
import { registerLiveBench } from './bench-live'
import { registerRecordsBench } from './bench-records'

interface Throughput {
  files: number
  audio_s: number
  compute_s: number
  /** the reference's BLAS (bench_frontend.py): which kernel ran, and the OpenBLAS overrides (null: unset) */
  blas: {
    libraries: { internal_api: string; version: string; architecture: string }[]
    overrides: Record<string, string | null>
  }
}

/** "openblas 0.3.31 SkylakeX kernel, OPENBLAS_CORETYPE=unset OPENBLAS_L2_SIZE=unset": the figure's environment. */
const blasEnvironment = ({ libraries, overrides }: Throughput['blas']): string =>
  [
    ...libraries.map((lib) => `${lib.internal_api} ${lib.version} ${lib.architecture} kernel`),
    Object.entries(overrides)
      .map(([name, value]) => `${name}=${value ?? 'unset'}`)
      .join(' '),
  ].join(', ')

/** The first `count` recordings of the CirCor manifest, a fixed and reproducible selection. */
export function corpusFiles(count: number): string[] {
  const dir = circorDir()
  let manifest: string
  try {
    manifest = readFileSync(join(dir, 'manifest.csv'), 'utf8')
  } catch {
    throw new InputError(dir, 'CirCor manifest not found: set PHONOSCOPE_DATA (see README.md)')
  }
  const [header, ...rows] = manifest.trim().split('\n')
  const pathColumn = header!.split(',').indexOf('path')
  return rows.slice(0, count).map((row) => join(dir, row.split(',')[pathColumn]!))
}

/** Seconds to compute the features of every file, after one warm-up (WebAssembly compilation, JIT). */
async function benchTypeScript(files: string[]): Promise<number> {
  await computeFeatures(files[0]!)
  const start = performance.now()
  for (const file of files) await computeFeatures(file)
  return (performance.now() - start) / 1000
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks that print figures (no pass/fail)')
  registerBenchInference(bench)
  registerBenchEvaluate(bench)
  registerLiveBench(bench)
  registerDecodeBench(bench)
  registerRecordsBench(bench)
  bench
    .command('frontend')
    .description('decode + resample + log-Mel throughput: TypeScript vs librosa on the same recordings, one core each')
    .option('--files <n>', 'how many CirCor recordings (the manifest order)', '200')
    .option('--rounds <n>', 'alternate librosa and TypeScript this many times; the best round of each counts', '3')
    .option('--json', 'print one JSON object')
    .action((options: { files: string; rounds: string; json?: boolean }) =>
      runCommand(async () => {
        const files = corpusFiles(Number(options.files))
        const rounds = positiveInt(options.rounds, '--rounds')!
        process.stderr.write(`front-end bench on ${files.length} CirCor recordings, ${rounds} round(s)...\n`)
        let python: Throughput | undefined
        let typescriptSeconds = Infinity
        for (let round = 0; round < rounds; round++) {
          const run = JSON.parse(await runPythonModule('bench_frontend', [], files.join('\n') + '\n')) as Throughput
          if (!python || run.compute_s < python.compute_s) python = run
          typescriptSeconds = Math.min(typescriptSeconds, await benchTypeScript(files))
        }
        const result = {
          files: files.length,
          rounds,
          audio_s: python!.audio_s,
          typescript_x_realtime: python!.audio_s / typescriptSeconds,
          librosa_x_realtime: python!.audio_s / python!.compute_s,
          ratio_typescript_over_librosa: python!.compute_s / typescriptSeconds,
          librosa_blas: python!.blas,
        }
        if (options.json) return void console.log(JSON.stringify(result))
        console.log(
          `recordings            ${result.files} (${(result.audio_s / 3600).toFixed(2)} h of audio), best of ${rounds} round(s)`,
        )
        console.log(`TypeScript front end  ${result.typescript_x_realtime.toFixed(0)} x real time (1 core)`)
        console.log(`librosa front end     ${result.librosa_x_realtime.toFixed(0)} x real time (1 thread)`)
        console.log(`librosa environment   ${blasEnvironment(python!.blas)}`)
        console.log(
          `ratio TS / librosa    ${result.ratio_typescript_over_librosa.toFixed(2)} (goal >= 1.0; TS goal >= 1000x)`,
        )
      }),
    )
}
