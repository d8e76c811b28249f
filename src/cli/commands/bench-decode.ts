import type { Command } from 'commander'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc16, crc8 } from '../../core/audio/flac-frames'
import { streamFeatures } from '../../core/dsp/features'
import { SAMPLE_RECORDING } from '../../core/live/sources'
import { runCommand } from '../run'

/** FLAC's "UTF-8" coding of a frame number (up to 36 bits; 31 are plenty here). */
function utf8Number(n: number): number[] {
  if (n < 0x80) return [n]
  const tail: number[] = []
  let lead = 0xc0
  let room = 0x1f
  for (;;) {
    tail.unshift(0x80 | (n & 0x3f))
    n = Math.floor(n / 64)
    if (n <= room) return [lead | n, ...tail]
    lead = 0x80 | (lead >> 1)
    room >>= 1
  }
}

/**
 * A valid mono 16-bit FLAC whose every frame is one constant subframe of `blockSize` samples: the most compressed
 * audio FLAC can hold (about 14 bytes per frame), which is what made decoder memory scale with the compression ratio.
 */
export function constantFlac(options: { sampleRate: number; frames: number; blockSize: number; value?: number }) {
  const { sampleRate, frames, blockSize, value = 0 } = options
  const info = Buffer.alloc(42)
  info.write('fLaC', 0, 'latin1')
  info[4] = 0x80 // the last metadata block, STREAMINFO (type 0), of 34 bytes
  info.writeUIntBE(34, 5, 3)
  info.writeUInt16BE(blockSize, 8)
  info.writeUInt16BE(blockSize, 10)
  const total = frames * blockSize
  // rate (20 bits), channels - 1 (3), bits - 1 (5), total samples (36); the MD5 stays zero: not computed
  info[18] = sampleRate >> 12
  info[19] = (sampleRate >> 4) & 0xff
  info[20] = ((sampleRate & 0x0f) << 4) | (0 << 1) | (15 >> 4)
  info[21] = ((15 & 0x0f) << 4) | Math.floor(total / 2 ** 32)
  info.writeUInt32BE(total % 2 ** 32, 22)
  const parts: Buffer[] = [info]
  for (let n = 0; n < frames; n++) {
    // sync + fixed blocking, block size in a 16-bit field, rate and sample size from STREAMINFO, mono
    const header = Buffer.from([0xff, 0xf8, 0x70, 0x00, ...utf8Number(n), (blockSize - 1) >> 8, (blockSize - 1) & 0xff])
    const frame = Buffer.alloc(header.length + 1 + 3 + 2)
    header.copy(frame)
    frame[header.length] = crc8(frame, 0, header.length)
    frame[header.length + 1] = 0 // constant subframe, no wasted bits
    frame.writeInt16BE(value, header.length + 2)
    frame.writeUInt16BE(crc16(frame, 0, frame.length - 2), frame.length - 2)
    parts.push(frame)
  }
  return Buffer.concat(parts)
}

interface DecodeMemory {
  file: string
  audio_s: number
  peak_rss_mb: number
  peak_heap_and_buffers_mb: number
}

/** Decodes, resamples and frames one file as `features` does, watching the memory at every block. */
async function measure(file: string): Promise<DecodeMemory> {
  const { info, blocks } = await streamFeatures(file)
  let peak = 0
  for await (const _block of blocks) {
    const m = process.memoryUsage()
    peak = Math.max(peak, m.heapUsed + m.arrayBuffers)
  }
  return {
    file,
    audio_s: (info.frames ?? 0) / info.sampleRate,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    peak_heap_and_buffers_mb: peak / 2 ** 20,
  }
}

export function registerDecodeBench(bench: Command): void {
  bench
    .command('decode')
    .description('peak memory of decoding highly compressed FLACs (constant frames, 1 h of silence) vs a normal one')
    .option('--file <path>', 'measure this one file (in this process) instead')
    .option('--json', 'print JSON')
    .action((options: { file?: string; json?: boolean }) =>
      runCommand(async () => {
        if (options.file) return void console.log(JSON.stringify(await measure(options.file)))
        const dir = mkdtempSync(join(tmpdir(), 'phonoscope-bench-decode-'))
        try {
          const files = {
            reference: SAMPLE_RECORDING,
            // 43 KB: 3000 frames of 65535 samples (74 min at 44.1 kHz)
            constant_frames: join(dir, 'constant-frames.flac'),
            silence_1h: join(dir, 'silence-1h.flac'),
          }
          writeFileSync(files.constant_frames, constantFlac({ sampleRate: 44100, frames: 3000, blockSize: 65535 }))
          const hour = Math.ceil((3600 * 44100) / 4096)
          writeFileSync(files.silence_1h, constantFlac({ sampleRate: 44100, frames: hour, blockSize: 4096 }))
          // one process per file: the peak RSS of a process only ever grows
          const results = Object.entries(files).map(([name, file]) => {
            const run = spawnSync(process.execPath, [process.argv[1]!, 'bench', 'decode', '--file', file], {
              encoding: 'utf8',
            })
            if (run.status !== 0) throw new Error(`measuring ${file} failed: ${run.stderr.trim()}`)
            return { name, ...(JSON.parse(run.stdout) as DecodeMemory) }
          })
          if (options.json) return void console.log(JSON.stringify(results))
          for (const r of results) {
            console.log(
              `${r.name.padEnd(16)} ${(r.audio_s / 60).toFixed(1).padStart(6)} min  peak RSS ${r.peak_rss_mb.toFixed(0).padStart(5)} MB  heap+buffers ${r.peak_heap_and_buffers_mb.toFixed(0).padStart(5)} MB`,
            )
          }
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      }),
    )
}
