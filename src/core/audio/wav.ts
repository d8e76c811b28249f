import { InputError } from '../errors'
import type { ByteSource } from './byte-source'
import type { AudioInfo, MonoAudioStream, Samples } from './types'

const READ_BLOCK = 1 << 16
const FORMAT_PCM = 1
const FORMAT_FLOAT = 3
const FORMAT_EXTENSIBLE = 0xfffe
/** Streaming writers put 0xFFFFFFFF in the data size when they cannot seek back: read to the end of file. */
const SIZE_UNKNOWN = 0xffffffff
const FORMAT_NAMES: Record<number, string> = { 2: 'MS ADPCM', 6: 'A-law', 7: 'mu-law', 17: 'IMA ADPCM', 85: 'MP3' }

interface WavLayout {
  info: AudioInfo
  dataOffset: number
  dataBytes: number
}

/**
 * Reads small pieces (chunk headers, the fmt body) through one READ_BLOCK window, so that walking many small chunks
 * costs one read per window rather than one per chunk (a million empty chunks took two minutes).
 */
class WindowedReader {
  private window: Buffer = Buffer.alloc(0)
  private windowAt = 0

  constructor(private readonly file: ByteSource) {}

  async read(position: number, length: number): Promise<Buffer> {
    const end = this.windowAt + this.window.length
    if (position < this.windowAt || position + length > end) {
      this.window = await readAt(this.file, position, Math.max(length, READ_BLOCK))
      this.windowAt = position
    }
    const at = position - this.windowAt
    return this.window.subarray(at, at + length)
  }
}

/** Walks the RIFF chunks from the start of the file to the fmt chunk and the data chunk. */
async function readLayout(file: ByteSource, path: string, fileSize: number): Promise<WavLayout> {
  const reader = new WindowedReader(file)
  const riff = await reader.read(0, 12)
  if (riff.length < 12 || riff.toString('latin1', 8, 12) !== 'WAVE') throw new InputError(path, 'not a WAVE file')
  let info: AudioInfo | undefined
  for (let pos = 12; pos + 8 <= fileSize;) {
    const head = await reader.read(pos, 8)
    const id = head.toString('latin1', 0, 4)
    const size = head.readUInt32LE(4)
    const body = pos + 8
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > fileSize) throw new InputError(path, 'truncated WAV header')
      info = parseFmt(await reader.read(body, Math.min(size, 40)), path)
    } else if (id === 'data') {
      if (!info) throw new InputError(path, 'malformed WAV: data chunk before fmt chunk')
      const available = fileSize - body
      const declared = size === SIZE_UNKNOWN ? available - (available % blockAlign(info)) : size
      if (declared > available) {
        throw new InputError(path, `truncated WAV: header declares ${declared} bytes of audio, file has ${available}`)
      }
      const frames = Math.floor(declared / blockAlign(info))
      if (frames === 0) throw new InputError(path, 'no audio samples')
      return { info: { ...info, frames }, dataOffset: body, dataBytes: frames * blockAlign(info) }
    }
    pos = body + size + (size & 1) // chunks are word-aligned
  }
  throw new InputError(path, info ? 'truncated WAV: no data chunk' : 'malformed WAV: no fmt chunk')
}

async function readAt(file: ByteSource, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  const { bytesRead } = await file.read(buf, 0, length, position)
  return buf.subarray(0, bytesRead)
}

function parseFmt(fmt: Buffer, path: string): AudioInfo {
  let tag = fmt.readUInt16LE(0)
  const channels = fmt.readUInt16LE(2)
  const sampleRate = fmt.readUInt32LE(4)
  const bitsPerSample = fmt.readUInt16LE(14)
  if (tag === FORMAT_EXTENSIBLE) {
    if (fmt.length < 26) throw new InputError(path, 'malformed WAV: short WAVE_FORMAT_EXTENSIBLE header')
    tag = fmt.readUInt16LE(24) // first two bytes of the sub-format GUID
  }
  if (channels === 0) throw new InputError(path, 'WAV declares 0 channels')
  if (sampleRate === 0) throw new InputError(path, 'WAV declares a sample rate of 0 Hz')
  if (tag === FORMAT_PCM && [8, 16, 24, 32].includes(bitsPerSample)) {
    return { container: 'wav', sampleRate, channels, bitsPerSample, encoding: 'pcm', frames: undefined }
  }
  if (tag === FORMAT_FLOAT && (bitsPerSample === 32 || bitsPerSample === 64)) {
    return { container: 'wav', sampleRate, channels, bitsPerSample, encoding: 'float', frames: undefined }
  }
  const name = FORMAT_NAMES[tag] ?? `format tag ${tag}`
  throw new InputError(
    path,
    `unsupported WAV encoding: ${name}, ${bitsPerSample}-bit (supported: PCM 8/16/24/32, float 32/64)`,
  )
}

const blockAlign = (info: AudioInfo): number => (info.bitsPerSample / 8) * info.channels

/** One sample's value in [-1, 1) at a byte offset, by encoding and width. */
function sampleReader(info: AudioInfo): (buf: Buffer, at: number) => number {
  if (info.encoding === 'float') {
    return info.bitsPerSample === 32 ? (b, at) => b.readFloatLE(at) : (b, at) => b.readDoubleLE(at)
  }
  switch (info.bitsPerSample) {
    case 8:
      return (b, at) => (b[at]! - 128) / 128 // 8-bit WAV is unsigned
    case 16:
      return (b, at) => b.readInt16LE(at) / 32768
    case 24:
      return (b, at) => b.readIntLE(at, 3) / 8388608
    default:
      return (b, at) => b.readInt32LE(at) / 2147483648
  }
}

/** The data chunk's frames, averaged to mono, one READ_BLOCK at a time. */
async function* decodeData(file: ByteSource, layout: WavLayout): AsyncGenerator<Float64Array> {
  const { info } = layout
  const frameBytes = blockAlign(info)
  const sampleBytes = info.bitsPerSample / 8
  const read = sampleReader(info)
  const block = Buffer.alloc(Math.max(frameBytes, READ_BLOCK - (READ_BLOCK % frameBytes)))
  for (let done = 0; done < layout.dataBytes;) {
    const want = Math.min(block.length, layout.dataBytes - done)
    const { bytesRead } = await file.read(block, 0, want, layout.dataOffset + done)
    if (bytesRead === 0) break
    const frames = Math.floor(bytesRead / frameBytes)
    const out = new Float64Array(frames)
    for (let f = 0, at = 0; f < frames; f++) {
      let sum = 0
      for (let c = 0; c < info.channels; c++, at += sampleBytes) sum += read(block, at)
      out[f] = sum / info.channels
    }
    done += frames * frameBytes
    yield out
  }
}

async function* monoChunks(file: ByteSource, layout: WavLayout): AsyncGenerator<Samples> {
  try {
    yield* decodeData(file, layout)
  } finally {
    await file.close()
  }
}

/**
 * NaN or Inf (possible only in float WAVs) poisons every spectrogram frame and probability after it, and the argmax of
 * NaNs would read as "normal": such a file is refused when opened, before any sample is used, saying how many
 * (mono) samples are not finite and where the first one is.
 */
async function refuseNonFinite(file: ByteSource, layout: WavLayout, path: string): Promise<void> {
  if (layout.info.encoding !== 'float') return
  let bad = 0
  let first = 0
  let seen = 0
  for await (const chunk of decodeData(file, layout)) {
    for (let i = 0; i < chunk.length; i++) if (!Number.isFinite(chunk[i]!) && bad++ === 0) first = seen + i
    seen += chunk.length
  }
  if (bad === 0) return
  const at = (first / layout.info.sampleRate).toFixed(1)
  throw new InputError(path, `${bad} non-finite sample${bad === 1 ? '' : 's'} (NaN/Inf) from ${at} s`)
}

export async function openWav(
  file: ByteSource,
  path: string,
  fileSize: number,
): Promise<Omit<MonoAudioStream, 'close'>> {
  const layout = await readLayout(file, path, fileSize)
  await refuseNonFinite(file, layout, path)
  return { path, info: layout.info, chunks: monoChunks(file, layout) }
}
