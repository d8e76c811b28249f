import { setTimeout as sleep } from 'node:timers/promises'
import { openAudio } from '../audio/decode'
import type { Samples } from '../audio/types'
import type { AudioSource } from './source'

const CHUNK_SECONDS = 0.1

/**
 * Replays a recording as if it came from a stethoscope: chunks of 100 ms, paced at real time (speed 1) or faster.
 * Used by the demo and by tests; speed 0 replays as fast as it decodes.
 */
export async function fileSource(path: string, speed = 1): Promise<AudioSource> {
  const audio = await openAudio(path)
  const rate = audio.info.sampleRate
  const chunkFrames = Math.round(rate * CHUNK_SECONDS)
  let stopped = false
  return {
    label: `file ${path}`,
    sampleRate: rate,
    stop: () => void (stopped = true),
    async *chunks(): AsyncGenerator<Samples> {
      const start = performance.now()
      let sent = 0
      let pending: Float64Array = new Float64Array(0)
      for await (const decoded of audio.chunks) {
        pending = concat(pending, decoded)
        while (pending.length >= chunkFrames && !stopped) {
          yield* paced(pending.subarray(0, chunkFrames))
          pending = pending.slice(chunkFrames)
        }
        if (stopped) break
      }
      if (!stopped && pending.length > 0) yield* paced(pending)

      async function* paced(chunk: Float64Array): AsyncGenerator<Samples> {
        const due = start + (sent / rate / speed) * 1000
        if (speed > 0 && due > performance.now()) await sleep(due - performance.now())
        sent += chunk.length
        yield chunk
      }
    },
  }
}

function concat(a: Float64Array, b: Samples): Float64Array {
  const out = new Float64Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
