/** What a decoder found in a file's header, before any sample is read. */
export interface AudioInfo {
  container: 'wav' | 'flac'
  sampleRate: number
  channels: number
  bitsPerSample: number
  encoding: 'pcm' | 'float'
  /** sample frames (per channel) the header declares, when it declares them */
  frames: number | undefined
}

/** Mono samples in [-1, 1]. Decoders give float64 so that 24/32-bit and float64 files keep their precision. */
export type Samples = Float32Array | Float64Array

/**
 * A decoded recording as a stream of mono chunks at the file's own rate: channels are averaged (librosa's to_mono),
 * integer PCM is scaled to [-1, 1) by 2^(bits-1) (libsndfile's convention).
 */
export interface MonoAudioStream {
  path: string
  info: AudioInfo
  chunks: AsyncIterable<Samples>
  /** releases the file when the chunks are not read to the end (reading them to the end releases it too) */
  close(): Promise<void>
}
