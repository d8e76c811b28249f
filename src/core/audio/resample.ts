import libsamplerate from '@alexanderolsen/libsamplerate-js'
import { InputError } from '../errors'
import type { Samples } from './types'

/**
 * libsamplerate's "medium" band-limited sinc converter (97 dB SNR, 90 % bandwidth). "Best" keeps 97 % of the band but
 * runs 3x slower in its WebAssembly build (25x real time from 44.1 kHz), too slow for whole-corpus work; the Mel
 * filterbank's top band (1.8-2 kHz) is the only one that sees the difference.
 */
const CONVERTER = libsamplerate.ConverterType.SRC_SINC_MEDIUM_QUALITY
const FLUSH_BLOCK = 1024
/** libsamplerate-js refuses rates above this (a check of its own: the converter only sees their ratio) */
const LIBRARY_MAX_RATE = 192000
/** libsamplerate's widest conversion, either way */
const MAX_RATIO = 256
/**
 * Samples libsamplerate-js's WebAssembly buffers hold. A longer call goes to its own splitting, which cuts at
 * rate / 10 samples: a fractional offset (11025 Hz) throws a RangeError, so calls are kept below this instead.
 */
const LIBRARY_BUFFER = 1008000

type Converter = Awaited<ReturnType<typeof libsamplerate.create>>

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

/**
 * A converter for the rates, given the pair reduced by their common divisor: that keeps their ratio (all libsamplerate
 * uses) exact while bringing 352.8 and 384 kHz within the library's range. Rates it cannot convert are the file's
 * problem. `piece` is the most input one call may take, so that neither its input nor its output outgrows the buffers.
 */
async function converterFor(inputRate: number, outputRate: number): Promise<{ src: Converter; piece: number }> {
  const divisor = gcd(inputRate, outputRate)
  const [input, output] = [inputRate / divisor, outputRate / divisor]
  const ratio = outputRate / inputRate
  if (ratio > MAX_RATIO || ratio < 1 / MAX_RATIO || input > LIBRARY_MAX_RATE || output > LIBRARY_MAX_RATE) {
    throw new InputError(`sample rate ${inputRate} Hz`, `cannot be resampled to ${outputRate} Hz`)
  }
  const src = await libsamplerate.create(1, input, output, { converterType: CONVERTER })
  return { src, piece: Math.floor(LIBRARY_BUFFER / Math.max(1, ratio)) - 1 }
}

/**
 * Resamples a stream of mono chunks. The output has ceil(n * out / in) samples, like librosa.resample: the converter's
 * internal delay is flushed with silence at the end and trimmed, so nothing of the recording's tail is lost.
 */
export async function* resampleStream(
  chunks: AsyncIterable<Samples>,
  inputRate: number,
  outputRate: number,
): AsyncGenerator<Samples> {
  if (inputRate === outputRate) return yield* chunks
  // made once the chunks have started: an error then ends them too, which releases their file
  let converter: { src: Converter; piece: number } | undefined
  try {
    let consumed = 0
    let produced = 0
    for await (const chunk of chunks) {
      converter ??= await converterFor(inputRate, outputRate)
      consumed += chunk.length
      // the converter works in float32
      const samples = chunk instanceof Float32Array ? chunk : Float32Array.from(chunk)
      for (let at = 0; at < samples.length; at += converter.piece) {
        const out = converter.src.full(samples.subarray(at, at + converter.piece))
        produced += out.length
        if (out.length > 0) yield out
      }
    }
    const expected = Math.ceil((consumed * outputRate) / inputRate)
    const silence = new Float32Array(FLUSH_BLOCK)
    while (converter && produced < expected) {
      const out = converter.src.full(silence)
      const keep = out.subarray(0, Math.min(out.length, expected - produced))
      produced += keep.length
      if (keep.length > 0) yield keep
    }
  } finally {
    converter?.src.destroy()
  }
}
