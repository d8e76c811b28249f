import { openAudio } from '../audio/decode'
import { resampleStream } from '../audio/resample'
import type { AudioInfo, Samples } from '../audio/types'
import { joinBlocks, LogMelStream, type LogMelBlock } from './logmel'
import { DEFAULT_FRONTEND, type FrontendParams } from './params'

export interface FeatureStream {
  info: AudioInfo
  /** log-Mel blocks in order, as decoding, resampling and framing progress */
  blocks: AsyncIterable<LogMelBlock>
}

/** Decode -> mono -> resample to the front end's rate -> log-Mel, streamed end to end. */
export async function streamFeatures(path: string, params: FrontendParams = DEFAULT_FRONTEND): Promise<FeatureStream> {
  const audio = await openAudio(path)
  const samples = resampleStream(audio.chunks, audio.info.sampleRate, params.sample_rate)
  return { info: audio.info, blocks: frames(samples, new LogMelStream(params)) }
}

async function* frames(samples: AsyncIterable<Samples>, stream: LogMelStream): AsyncGenerator<LogMelBlock> {
  for await (const chunk of samples) {
    const block = stream.push(chunk)
    if (block.frames > 0) yield block
  }
}

/** The whole log-Mel matrix of a file, for callers that need it at once (a recording's features are small). */
export async function computeFeatures(path: string, params: FrontendParams = DEFAULT_FRONTEND): Promise<LogMelBlock> {
  const { blocks } = await streamFeatures(path, params)
  const parts: Float32Array[] = []
  let frames = 0
  for await (const block of blocks) {
    parts.push(block.data)
    frames += block.frames
  }
  return joinBlocks(parts, frames, params.n_mels)
}
