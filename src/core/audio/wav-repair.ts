/**
 * A 16-bit mono WAV whose writer (wav-writer.ts) was cut off: the writer rewrites the header's sizes on each flush,
 * so after a crash they may lag the samples on disk by up to a second. These read or repair what is there.
 */
import { open, stat } from 'node:fs/promises'
import { HEADER_BYTES as WAV_HEADER_BYTES } from './wav-writer'

/** What repairWav would make of a WAV, read without changing it. */
export async function framesOnDisk(path: string): Promise<{ frames: number; sampleRate: number }> {
  const file = await open(path, 'r')
  try {
    const rate = Buffer.alloc(4)
    await file.read(rate, 0, 4, 24)
    return { frames: wholeFrames((await file.stat()).size), sampleRate: rate.readUInt32LE(0) }
  } finally {
    await file.close()
  }
}

const wholeFrames = (size: number): number => Math.max(0, Math.floor((size - WAV_HEADER_BYTES) / 2))

/**
 * Makes a 16-bit mono WAV whose writer was killed valid again: its header sizes are set to cover every whole sample
 * on disk (the writer rewrites them on each flush, so at most the last second's sizes are stale).
 */
export async function repairWav(path: string): Promise<{ frames: number; sampleRate: number }> {
  const frames = wholeFrames((await stat(path)).size)
  const file = await open(path, 'r+')
  try {
    const rate = Buffer.alloc(4)
    await file.read(rate, 0, 4, 24)
    const sizes = Buffer.alloc(4)
    sizes.writeUInt32LE(36 + frames * 2)
    await file.write(sizes, 0, 4, 4)
    sizes.writeUInt32LE(frames * 2)
    await file.write(sizes, 0, 4, 40)
    await file.truncate(WAV_HEADER_BYTES + frames * 2)
    return { frames, sampleRate: rate.readUInt32LE(0) }
  } finally {
    await file.close()
  }
}
