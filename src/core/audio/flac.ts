import type { FileHandle } from 'node:fs/promises'
import { FLACDecoder } from '@wasm-audio-decoders/flac'
import { InputError } from '../errors'
import type { AudioInfo, MonoAudioStream, Samples } from './types'

const READ_BLOCK = 1 << 16
const STREAMINFO_BYTES = 34

/** Parses the mandatory STREAMINFO block that follows the "fLaC" marker. */
function parseStreamInfo(head: Buffer, path: string): AudioInfo {
  const blockType = head[4]! & 0x7f
  const length = head.readUIntBE(5, 3)
  if (head.length < 8 + STREAMINFO_BYTES || blockType !== 0 || length !== STREAMINFO_BYTES) {
    throw new InputError(path, 'corrupt FLAC: no valid STREAMINFO block')
  }
  const s = head.subarray(8)
  const sampleRate = (s[10]! << 12) | (s[11]! << 4) | (s[12]! >> 4)
  const channels = ((s[12]! >> 1) & 0x07) + 1
  const bitsPerSample = (((s[12]! & 0x01) << 4) | (s[13]! >> 4)) + 1
  const totalFrames = (s[13]! & 0x0f) * 2 ** 32 + s.readUInt32BE(14)
  if (sampleRate === 0) throw new InputError(path, 'corrupt FLAC: sample rate of 0 Hz')
  // STREAMINFO writes 0 total samples when the encoder did not know the length: then it is unknown, not zero.
  const frames = totalFrames === 0 ? undefined : totalFrames
  return { container: 'flac', sampleRate, channels, bitsPerSample, encoding: 'pcm', frames }
}

/**
 * Averages the channels and rescales. The WebAssembly decoder divides integer samples by 2^(bits-1) - 1 (so -32768
 * becomes -1.00003); libsndfile, librosa and our WAV reader divide by 2^(bits-1). Recovering the integer and dividing
 * again keeps FLAC and WAV copies of a recording bit-identical, and both identical to the Python side.
 */
function toMono(channelData: Float32Array[], samples: number, bitsPerSample: number): Float64Array {
  const full = 2 ** (bitsPerSample - 1)
  const scale = full - 1
  const out = new Float64Array(samples)
  for (const channel of channelData) {
    for (let i = 0; i < samples; i++) out[i] = out[i]! + Math.round(channel[i]! * scale) / full
  }
  if (channelData.length > 1) for (let i = 0; i < samples; i++) out[i]! /= channelData.length
  return out
}

/**
 * Idle decoders, reused: instantiating the WebAssembly module costs more than decoding a short recording. A decoder
 * that met an error is freed rather than returned.
 */
const idle: FLACDecoder[] = []

async function acquireDecoder(): Promise<FLACDecoder> {
  const decoder = idle.pop() ?? new FLACDecoder()
  await decoder.ready
  return decoder
}

async function* monoChunks(file: FileHandle, path: string, fileSize: number): AsyncGenerator<Samples> {
  const decoder = await acquireDecoder()
  let decoded = 0
  let clean = false
  try {
    const block = Buffer.alloc(READ_BLOCK)
    for (let position = 0; position < fileSize;) {
      const { bytesRead } = await file.read(block, 0, block.length, position)
      if (bytesRead === 0) break
      position += bytesRead
      const result = await decoder.decode(block.subarray(0, bytesRead))
      yield* checked(result)
    }
    yield* checked(await decoder.flush())
    if (decoded === 0) throw new InputError(path, 'no audio samples')
    clean = true
  } finally {
    if (clean) {
      await decoder.reset()
      idle.push(decoder)
    } else decoder.free()
    await file.close()
  }

  function* checked(result: Awaited<ReturnType<FLACDecoder['decode']>>): Generator<Samples> {
    if (result.errors.length > 0) throw new InputError(path, `corrupt FLAC: ${describe(result.errors[0]!.message)}`)
    if (result.samplesDecoded === 0) return
    decoded += result.samplesDecoded
    yield toMono(result.channelData, result.samplesDecoded, result.bitDepth)
  }
}

/** libFLAC's status names are long; keep the part a user can read. */
const describe = (message: string): string =>
  /FLAC__STREAM_DECODER_ERROR_STATUS_(\w+)/.exec(message)?.[1]?.toLowerCase().replaceAll('_', ' ') ?? message

export async function openFlac(file: FileHandle, path: string, fileSize: number): Promise<MonoAudioStream> {
  const head = Buffer.alloc(Math.min(fileSize, 8 + STREAMINFO_BYTES))
  await file.read(head, 0, head.length, 0)
  const info = parseStreamInfo(head, path)
  return { path, info, chunks: monoChunks(file, path, fileSize) }
}
