import { open, stat } from 'node:fs/promises'
import { InputError } from '../errors'
import { openFlac } from './flac'
import type { AudioInfo, MonoAudioStream } from './types'
import { openWav } from './wav'

/** Magic numbers of formats people will try, so the error can say what the file is rather than what it is not. */
const KNOWN_UNSUPPORTED: [string, string][] = [
  ['OggS', 'Ogg'],
  ['ID3', 'MP3'],
  ['\u00ff\u00fb', 'MP3'],
  ['\u00ff\u00f3', 'MP3'],
  ['\u00ff\u00f2', 'MP3'],
  ['FORM', 'AIFF'],
  ['RIFX', 'big-endian WAV (RIFX)'],
  ['RF64', 'RF64 WAV'],
  ['caff', 'Core Audio (CAF)'],
  ['\u001aE\u00df\u00a3', 'Matroska/WebM'],
]

/**
 * Opens a WAV or FLAC file, recognised by its content (not its name), for streaming decoding. Every problem a user
 * can fix (missing file, empty, truncated, not audio, unsupported encoding) is an InputError naming the file.
 */
export async function openAudio(path: string): Promise<MonoAudioStream> {
  const size = await fileSize(path)
  const file = await open(path, 'r')
  try {
    const magic = Buffer.alloc(12)
    const { bytesRead } = await file.read(magic, 0, 12, 0)
    const tag = magic.toString('latin1', 0, Math.min(4, bytesRead))
    const close = () => file.close()
    if (tag === 'RIFF') return { ...(await openWav(file, path, size)), close }
    if (tag === 'fLaC') return { ...(await openFlac(file, path, size)), close }
    if (magic.toString('latin1', 4, 8) === 'ftyp')
      throw new InputError(path, 'unsupported format: MP4/M4A (use WAV or FLAC)')
    const known = KNOWN_UNSUPPORTED.find(([prefix]) => tag.startsWith(prefix))
    if (known) throw new InputError(path, `unsupported format: ${known[1]} (use WAV or FLAC)`)
    throw new InputError(path, 'not an audio file (expected WAV or FLAC)')
  } catch (error) {
    await file.close()
    throw error
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path)
    if (info.isDirectory()) throw new InputError(path, 'is a directory, not an audio file')
    if (info.size === 0) throw new InputError(path, 'empty file')
    return info.size
  } catch (error) {
    if (error instanceof InputError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new InputError(path, 'file not found')
    if (code === 'EACCES') throw new InputError(path, 'permission denied')
    throw error
  }
}

/** What a file's header says (rate, channels, length), without decoding it. */
export async function audioInfo(path: string): Promise<AudioInfo> {
  const audio = await openAudio(path)
  await audio.close()
  return audio.info
}
