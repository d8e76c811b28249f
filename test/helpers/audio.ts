import { openAudio } from '../../src/core/audio/decode'
import type { Samples } from '../../src/core/audio/types'

/** Concatenates a stream of chunks. */
export async function collect(chunks: AsyncIterable<Samples>): Promise<Float64Array> {
  const parts: Samples[] = []
  for await (const c of chunks) parts.push(c)
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Every sample of a file, decoded to mono at its own rate. */
export const samplesOf = async (path: string): Promise<Float64Array> => collect((await openAudio(path)).chunks)
