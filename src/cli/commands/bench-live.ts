import type { Command } from 'commander'
import { setTimeout as sleep } from 'node:timers/promises'
import { resampleStream } from '../../core/audio/resample'
import { quantile } from '../../core/analysis/metrics'
import type { Samples } from '../../core/audio/types'
import { computeFeatures } from '../../core/dsp/features'
import { InputError } from '../../core/errors'
import { LiveAnalyzer } from '../../core/live/analyzer'
import { fileSource } from '../../core/live/file-source'
import { SAMPLE_RECORDING } from '../../core/live/sources'
import { runCommand } from '../run'
import { startInference } from '../inference'

interface LiveBenchOptions {
  file: string
  minutes: string
  speed: string
  hop: string
  json?: boolean
  model?: string
}

/** The recording, looped, as an endless source of 100 ms chunks (decoded once). */
async function* looped(file: string, seconds: number): AsyncGenerator<Samples> {
  const source = await fileSource(file, 0)
  const chunks: Samples[] = []
  for await (const c of source.chunks()) chunks.push(c)
  const perLoop = chunks.reduce((n, c) => n + c.length, 0) / source.sampleRate
  for (let played = 0; played < seconds; played += perLoop) yield* chunks
}

export function registerLiveBench(bench: Command): void {
  bench
    .command('live')
    .description('replay a recording through the live pipeline: column and verdict latency, CPU, memory over time')
    .option('--file <path>', 'recording to loop', SAMPLE_RECORDING)
    .option('--minutes <n>', 'minutes of audio to push through', '30')
    .option('--speed <x>', 'how many times faster than real time', '20')
    .option('--hop <seconds>', 'seconds between verdicts', '3')
    .option('--model <path>', 'ONNX model (default: the shipped one)')
    .option('--json', 'print one JSON object')
    .action((options: LiveBenchOptions) => runCommand(() => benchLive(options)))
}

async function benchLive(options: LiveBenchOptions): Promise<void> {
  const minutes = Number(options.minutes)
  const speed = Number(options.speed)
  if (!(minutes > 0) || !(speed > 0)) throw new InputError('--minutes/--speed', 'must be positive numbers')
  const { client, info } = await startInference({ model: options.model })
  try {
    await computeFeatures(options.file) // warm-up: decoders, tables
    const rate = 4000
    const columnMs: number[] = []
    const verdictMs: number[] = []
    const windowEnds = new Map<number, number>()
    let pushed = 0
    const hopFrames = Math.round((Number(options.hop) * rate) / info.card.frontend.hop_length)
    const analyzer = new LiveAnalyzer(
      'AV',
      info.card,
      client,
      hopFrames,
      {
        columns: () => undefined,
        verdict: (v) => {
          const due = windowEnds.get(v.first_frame + v.frames)
          if (due !== undefined) verdictMs.push(performance.now() - due)
        },
      },
      info.provider,
    )
    const rss: { minute: number; mb: number }[] = []
    const cpuStart = process.cpuUsage()
    const hostCpuStart = (await client.stats()).cpuMicros
    const wallStart = performance.now()
    let nextRssAt = 0
    for await (const chunk of resampleStream(looped(options.file, minutes * 60), 4000, rate)) {
      const arrived = performance.now()
      const framesBefore = analyzer.frames
      analyzer.push(chunk)
      const emitted = performance.now()
      if (analyzer.frames > framesBefore) columnMs.push(emitted - arrived)
      windowEnds.set(analyzer.frames, arrived) // a verdict on a window ending here is late by (verdict - arrival)
      pushed += chunk.length
      const audioS = pushed / rate
      if (audioS >= nextRssAt) {
        rss.push({ minute: audioS / 60, mb: process.memoryUsage().rss / 2 ** 20 })
        nextRssAt += 60
      }
      const due = wallStart + (audioS / speed) * 1000
      if (due > performance.now()) await sleep(due - performance.now())
    }
    await analyzer.settle()
    const wallS = (performance.now() - wallStart) / 1000
    const cpu = process.cpuUsage(cpuStart)
    const host = await client.stats()
    const firstHalf = rss.slice(1, Math.ceil(rss.length / 2)).map((r) => r.mb)
    const secondHalf = rss.slice(Math.ceil(rss.length / 2)).map((r) => r.mb)
    const result = {
      audio_minutes: pushed / rate / 60,
      speed,
      column_latency_ms: { median: quantile(columnMs, 0.5), p95: quantile(columnMs, 0.95) },
      verdict_latency_ms: {
        median: quantile(verdictMs, 0.5),
        p95: quantile(verdictMs, 0.95),
        verdicts: verdictMs.length,
      },
      dropped_windows: analyzer.dropped,
      cpu_percent_of_one_core: (100 * (cpu.user + cpu.system)) / 1e6 / wallS,
      cpu_percent_at_real_time: (100 * (cpu.user + cpu.system)) / 1e6 / wallS / speed,
      host_cpu_percent_at_real_time: (100 * (host.cpuMicros - hostCpuStart)) / 1e6 / wallS / speed,
      rss_mb: {
        start: rss[0]?.mb,
        end: rss.at(-1)?.mb,
        first_half_max: Math.max(...firstHalf),
        second_half_max: Math.max(...secondHalf),
      },
      host_peak_rss_mb: host.maxRssBytes / 2 ** 20,
      provider: info.provider,
    }
    if (options.json) return void console.log(JSON.stringify(result))
    const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1))
    console.log(
      `live pipeline: ${result.audio_minutes.toFixed(1)} min of audio at ${speed}x real time (${info.provider})`,
    )
    console.log(
      `column latency   median ${f(result.column_latency_ms.median)} ms, p95 ${f(result.column_latency_ms.p95)} ms (goal p95 < 50)`,
    )
    console.log(
      `verdict latency  median ${f(result.verdict_latency_ms.median)} ms, p95 ${f(result.verdict_latency_ms.p95)} ms after window end (goal < 150), ${result.dropped_windows} dropped`,
    )
    console.log(
      `CPU              ${f(result.cpu_percent_at_real_time)} % of one core at real time in the main process (${f(result.cpu_percent_of_one_core)} % at ${speed}x), ${f(result.host_cpu_percent_at_real_time)} % in the inference host`,
    )
    console.log(
      `RSS              ${f(result.rss_mb.start)} MB at start, ${f(result.rss_mb.end)} MB at end; max ${f(result.rss_mb.first_half_max)} MB in the first half, ${f(result.rss_mb.second_half_max)} MB in the second; host peak ${f(result.host_peak_rss_mb)} MB`,
    )
  } finally {
    await client.close()
  }
}
