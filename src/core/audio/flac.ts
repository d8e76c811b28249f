import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { endianness } from 'node:os'
import { InputError } from '../errors'
import { decodeFrame, FlacFormatError, NEED_MORE, type Frame, type StreamInfo } from './flac-frames'
import type { AudioInfo, MonoAudioStream, Samples } from './types'

const READ_BLOCK = 1 << 16
const LITTLE_ENDIAN = endianness() === 'LE'
const STREAMINFO_BYTES = 34

function parseStreamInfo(s: Buffer): StreamInfo {
  return {
    maxBlockSize: s.readUInt16BE(2),
    sampleRate: (s[10]! << 12) | (s[11]! << 4) | (s[12]! >> 4),
    channels: ((s[12]! >> 1) & 0x07) + 1,
    bitsPerSample: (((s[12]! & 0x01) << 4) | (s[13]! >> 4)) + 1,
    totalFrames: (s[13]! & 0x0f) * 2 ** 32 + s.readUInt32BE(14),
    md5: new Uint8Array(s.subarray(18, 34)),
  }
}

/** Reads the metadata blocks after "fLaC": STREAMINFO (mandatory, first), the others skipped. */
async function readMetadata(
  file: FileHandle,
  path: string,
  size: number,
): Promise<{ info: StreamInfo; audioAt: number }> {
  const header = Buffer.alloc(4)
  let info: StreamInfo | undefined
  for (let at = 4; ;) {
    if (at + 4 > size) throw new InputError(path, 'corrupt FLAC: metadata runs past the end of the file')
    await file.read(header, 0, 4, at)
    const last = header[0]! & 0x80
    const type = header[0]! & 0x7f
    const length = header.readUIntBE(1, 3)
    if (!info) {
      if (type !== 0 || length !== STREAMINFO_BYTES)
        throw new InputError(path, 'corrupt FLAC: no valid STREAMINFO block')
      const block = Buffer.alloc(STREAMINFO_BYTES)
      await file.read(block, 0, STREAMINFO_BYTES, at + 4)
      info = parseStreamInfo(block)
      if (info.sampleRate === 0) throw new InputError(path, 'corrupt FLAC: sample rate of 0 Hz')
    } else if (type === 127) {
      throw new InputError(path, 'corrupt FLAC: invalid metadata block')
    }
    at += 4 + length
    if (last) return { info, audioAt: at }
  }
}

/** The PCM bytes libFLAC's MD5 signature covers: samples interleaved, little-endian, (bits + 7) / 8 bytes each. */
function pcmBytes(frame: Frame, bytesPerSample: number): Uint8Array {
  const { channels, blockSize } = frame
  if (bytesPerSample === 2 && LITTLE_ENDIAN) {
    const pcm = new Int16Array(blockSize * channels.length)
    channels.forEach((channel, c) => {
      for (let i = 0; i < blockSize; i++) pcm[i * channels.length + c] = channel[i]!
    })
    return new Uint8Array(pcm.buffer)
  }
  const out = Buffer.allocUnsafe(blockSize * channels.length * bytesPerSample)
  let at = 0
  for (let i = 0; i < blockSize; i++) {
    for (const channel of channels) at = out.writeIntLE(channel[i]!, at, bytesPerSample)
  }
  return out
}

/**
 * Averages the channels and scales integers by 2^(bits-1), as libsndfile (and so librosa and our WAV reader) do:
 * FLAC and WAV copies of a recording give bit-identical samples, identical to the Python side's.
 */
function toMono(frames: Frame[], bitsPerSample: number): Float64Array {
  const full = 2 ** (bitsPerSample - 1)
  const out = new Float64Array(frames.reduce((n, f) => n + f.blockSize, 0))
  let at = 0
  for (const { channels, blockSize } of frames) {
    for (const channel of channels) {
      for (let i = 0; i < blockSize; i++) out[at + i] = out[at + i]! + channel[i]! / full
    }
    if (channels.length > 1) for (let i = 0; i < blockSize; i++) out[at + i]! /= channels.length
    at += blockSize
  }
  return out
}

async function* monoChunks(file: FileHandle, path: string, size: number, info: StreamInfo, audioAt: number) {
  const md5 = info.md5.some((b) => b !== 0) ? createHash('md5') : undefined
  const bytesPerSample = (info.bitsPerSample + 7) >> 3
  let buffer = Buffer.alloc(READ_BLOCK * 2)
  let start = 0
  let end = 0
  let decoded = 0
  try {
    for (let position = audioAt; ;) {
      const atEnd = position >= size
      if (!atEnd) {
        if (buffer.length - end < READ_BLOCK) {
          const grown = Buffer.alloc(Math.max(buffer.length, (end - start + READ_BLOCK) * 2))
          buffer.copy(grown, 0, start, end)
          buffer = grown
          end -= start
          start = 0
        }
        const { bytesRead } = await file.read(buffer, end, READ_BLOCK, position)
        if (bytesRead === 0) break
        position += bytesRead
        end += bytesRead
      }
      const frames: Frame[] = []
      for (;;) {
        if (start === end) break
        let frame: Frame
        try {
          frame = decodeFrame(buffer, start, end, info)
        } catch (error) {
          if (error !== NEED_MORE) throw error
          if (position >= size) throw new InputError(path, 'truncated FLAC: the last frame is cut off')
          break
        }
        md5?.update(pcmBytes(frame, bytesPerSample))
        frames.push(frame)
        start += frame.length
      }
      if (frames.length > 0) {
        const mono = toMono(frames, info.bitsPerSample)
        decoded += mono.length
        yield mono as Samples
      }
      if (position >= size && start === end) break
    }
    if (decoded === 0) throw new InputError(path, 'no audio samples')
    if (md5 && !md5.digest().equals(info.md5)) {
      throw new InputError(path, 'corrupt FLAC: the decoded audio does not match its MD5 signature')
    }
  } catch (error) {
    if (error instanceof FlacFormatError) throw new InputError(path, `corrupt FLAC: ${error.message}`)
    throw error
  } finally {
    await file.close()
  }
}

export async function openFlac(file: FileHandle, path: string, size: number): Promise<Omit<MonoAudioStream, 'close'>> {
  const { info: stream, audioAt } = await readMetadata(file, path, size)
  const info: AudioInfo = {
    container: 'flac',
    sampleRate: stream.sampleRate,
    channels: stream.channels,
    bitsPerSample: stream.bitsPerSample,
    encoding: 'pcm',
    // STREAMINFO writes 0 total samples when the encoder did not know the length: then it is unknown, not zero
    frames: stream.totalFrames === 0 ? undefined : stream.totalFrames,
  }
  return { path, info, chunks: monoChunks(file, path, size, stream, audioAt) }
}
