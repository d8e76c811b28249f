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

/** Seconds of one side's run: wall clock, and the process's CPU (what the ratio compares). */
interface Timing {
  compute_s: number
  cpu_s: number
}

interface Throughput extends Timing {
  files: number
  audio_s: number
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

const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

/**
 * Seconds to compute the features of every file, after one warm-up (JIT): wall clock, and this process's CPU (on a
 * shared machine the wall clock also counts the time other processes held the core; the CPU seconds do not).
 */
async function benchTypeScript(files: string[]): Promise<Timing> {
  await computeFeatures(files[0]!)
  const start = performance.now()
  const startCpu = cpuSeconds()
  for (const file of files) await computeFeatures(file)
  return { compute_s: (performance.now() - start) / 1000, cpu_s: cpuSeconds() - startCpu }
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
    .option('--rounds <n>', 'alternate librosa and TypeScript this many times; the least CPU of each counts', '3')
    .option('--json', 'print one JSON object')
    .action((options: { files: string; rounds: string; json?: boolean }) =>
      runCommand(async () => {
        const files = corpusFiles(Number(options.files))
        const rounds = positiveInt(options.rounds, '--rounds')!
        process.stderr.write(`front-end bench on ${files.length} CirCor recordings, ${rounds} round(s)...\n`)
        let python: Throughput | undefined
        let typescript: Timing | undefined
        for (let round = 0; round < rounds; round++) {
          const run = JSON.parse(await runPythonModule('bench_frontend', [], files.join('\n') + '\n')) as Throughput
          if (!python || run.cpu_s < python.cpu_s) python = run
          const ours = await benchTypeScript(files)
          if (!typescript || ours.cpu_s < typescript.cpu_s) typescript = ours
        }
        const audio = python!.audio_s
        const result = {
          files: files.length,
          rounds,
          audio_s: audio,
          typescript_x_realtime: audio / typescript!.cpu_s,
          librosa_x_realtime: audio / python!.cpu_s,
          ratio_typescript_over_librosa: python!.cpu_s / typescript!.cpu_s,
          wall_clock: {
            typescript_x_realtime: audio / typescript!.compute_s,
            librosa_x_realtime: audio / python!.compute_s,
            ratio_typescript_over_librosa: python!.compute_s / typescript!.compute_s,
          },
          librosa_blas: python!.blas,
        }
        if (options.json) return void console.log(JSON.stringify(result))
        console.log(
          `recordings            ${result.files} (${(result.audio_s / 3600).toFixed(2)} h of audio), best of ${rounds} round(s)`,
        )
        const wall = result.wall_clock
        console.log(
          `TypeScript front end  ${result.typescript_x_realtime.toFixed(0)} x real time per CPU second (1 core; ${wall.typescript_x_realtime.toFixed(0)} x by the wall clock)`,
        )
        console.log(
          `librosa front end     ${result.librosa_x_realtime.toFixed(0)} x real time per CPU second (1 thread; ${wall.librosa_x_realtime.toFixed(0)} x by the wall clock)`,
        )
        console.log(`librosa environment   ${blasEnvironment(python!.blas)}`)
        console.log(
          `ratio TS / librosa    ${result.ratio_typescript_over_librosa.toFixed(2)} by CPU seconds, ${wall.ratio_typescript_over_librosa.toFixed(2)} by the wall clock (goal >= 1.0; TS goal >= 1000x)`,
        )
      }),
    )
}
