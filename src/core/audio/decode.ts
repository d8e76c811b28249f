import { statSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { InputError } from '../errors'
import { wholeFile, type ByteSource } from './byte-source'
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
 * Files up to this size are read whole (wholeFile): the synchronous read holds the event loop well under a millisecond.
 * Larger ones are streamed from an open file.
 */
const WHOLE_FILE_BYTES = 1 << 20

/**
 * Opens a WAV or FLAC file, recognised by its content (not its name), for streaming decoding. Every problem a user
 * can fix (missing file, empty, truncated, not audio, unsupported encoding) is an InputError naming the file.
 */
export async function openAudio(path: string): Promise<MonoAudioStream> {
  const size = fileSize(path)
  const file = await openSource(path, size).catch((error: unknown) => {
    throw fileProblem(path, error)
  })
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

async function openSource(path: string, size: number): Promise<ByteSource> {
  return size <= WHOLE_FILE_BYTES ? wholeFile(path) : await open(path, 'r')
}

/** What the system said when a file could not be looked at or opened, for the user (anything else is internal). */
const ERRNO_PROBLEMS: Record<string, string> = {
  ENOENT: 'file not found',
  ENOTDIR: 'file not found (a folder in the path is a file)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
}

function fileProblem(path: string, error: unknown): unknown {
  const problem = ERRNO_PROBLEMS[(error as NodeJS.ErrnoException).code ?? '']
  return problem ? new InputError(path, problem) : error
}

/**
 * The size of a regular file. Anything else is refused before it is opened: a FIFO would block the open, and
 * devices (/dev/zero) report size 0 yet never end.
 */
function fileSize(path: string): number {
  let info: ReturnType<typeof statSync>
  try {
    info = statSync(path)
  } catch (error) {
    throw fileProblem(path, error)
  }
  if (info.isDirectory()) throw new InputError(path, 'is a directory, not an audio file')
  if (!info.isFile()) throw new InputError(path, 'not a regular file')
  if (info.size === 0) throw new InputError(path, 'empty file')
  return info.size
}

/** What a file's header says (rate, channels, length), without decoding it. */
export async function audioInfo(path: string): Promise<AudioInfo> {
  const audio = await openAudio(path)
  await audio.close()
  return audio.info
}
