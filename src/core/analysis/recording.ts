import { openAudio } from '../audio/decode'
import { LosslessCopy } from '../audio/lossless'
import { resampleStream } from '../audio/resample'
import type { MonoAudioStream, Samples } from '../audio/types'
import { joinBlocks, LogMelStream } from '../dsp/logmel'
import type { FrontendParams } from '../api/model-card'
import { InputError } from '../errors'

/** A recording's log-Mel matrix [frames, nMels] and how long it is. */
export interface RecordingFeatures {
  path: string
  frames: number
  nMels: number
  data: Float32Array
  durationS: number
  sampleRate: number
  /** the mono signal at the front end's rate, which the heart-cycle segmentation and the quality gate read */
  signal: Float32Array
}

/** Decode -> mono -> resample -> log-Mel with the card's front end (src/core/dsp), counting the source samples. */
export async function recordingFeatures(path: string, params: FrontendParams): Promise<RecordingFeatures> {
  return featuresOf(path, await openAudio(path), params)
}

/**
 * recordingFeatures of `path` from one decode that also writes the store's lossless copy of it, `wav` (LosslessCopy:
 * refused when 16-bit mono PCM would lose anything), with that copy's sha256.
 */
export async function keptRecordingFeatures(
  path: string,
  wav: string,
  params: FrontendParams,
): Promise<{ features: RecordingFeatures; sha256: string }> {
  const audio = await openAudio(path)
  const copy = await LosslessCopy.create(path, audio.info, wav).catch(async (error: unknown) => {
    await audio.close()
    throw error
  })
  let features: RecordingFeatures
  try {
    features = await featuresOf(path, audio, params, (chunk) => copy.append(chunk))
  } catch (error) {
    await copy.abandon()
    throw error
  }
  return { features, sha256: await copy.finish() }
}

/** The features of an opened recording; `sink` sees every decoded chunk at the source's rate, in order. */
async function featuresOf(
  path: string,
  audio: MonoAudioStream,
  params: FrontendParams,
  sink?: (chunk: Samples) => Promise<void>,
): Promise<RecordingFeatures> {
  let samples = 0
  async function* counted(): AsyncGenerator<Samples> {
    for await (const chunk of audio.chunks) {
      samples += chunk.length
      if (sink) await sink(chunk)
      yield chunk
    }
  }
  const stream = new LogMelStream(params)
  const parts: Float32Array[] = []
  const signalParts: Samples[] = []
  let frames = 0
  for await (const chunk of resampleStream(counted(), audio.info.sampleRate, params.sample_rate)) {
    signalParts.push(chunk)
    const block = stream.push(chunk)
    if (block.frames === 0) continue
    parts.push(block.data)
    frames += block.frames
  }
  const { data } = joinBlocks(parts, frames, params.n_mels)
  const durationS = samples / audio.info.sampleRate
  if (frames === 0) {
    throw new InputError(path, `too short to analyse (${durationS.toFixed(3)} s: not one ${params.n_fft}-sample frame)`)
  }
  const signal = new Float32Array(signalParts.reduce((n, c) => n + c.length, 0))
  signalParts.reduce((at, c) => (signal.set(c, at), at + c.length), 0)
  return { path, frames, nMels: params.n_mels, data, durationS, sampleRate: audio.info.sampleRate, signal }
}
