import { join, resolve, sep } from 'node:path'
import type { DeviceInfo, SourceSpec } from '../api/app'
import { InputError } from '../errors'
import { appRoot } from '../paths'
import { BrowserSource } from './browser-source'
import { fileSource } from './file-source'
import type { AudioSource } from './source'
import { listCaptureDevices, soxSource } from './sox-source'

/** The demo's recording: what a file source replays when it names no file. */
export const SAMPLE_RECORDING = join(appRoot(), 'resources', 'samples', '49628_TV.flac')

/** What a file source may read. Neither given: anything (the CLI, whose user names the file on its command line). */
export interface FileAccess {
  /** folders a file source may be read from (server mode) */
  fileRoots?: string[]
  /** files a file source may be read from, as absolute paths (Electron: those the user picked); it may grow */
  allowedFiles?: ReadonlySet<string>
}

/** Every source a session can start from: the capture devices sox sees, and the sample recording. */
export async function listSources(): Promise<DeviceInfo[]> {
  return [...(await listCaptureDevices()), { id: SAMPLE_RECORDING, label: 'Sample recording (replay)', kind: 'file' }]
}

/** Refuses (InputError) a file outside what `access` allows; the sample is always allowed. */
export function checkReadable(file: string, { fileRoots, allowedFiles }: FileAccess): void {
  if (!fileRoots && !allowedFiles) return
  const path = resolve(file)
  if (path === SAMPLE_RECORDING || allowedFiles?.has(path)) return
  if (fileRoots?.some((root) => path.startsWith(resolve(root) + sep))) return
  throw new InputError(file, allowedFiles ? 'not a file you picked' : 'outside the folders this server may read')
}

/** The source a spec names; a browser's is fed its PCM by the caller (BrowserSource.push). */
export async function openSource(spec: SourceSpec): Promise<AudioSource> {
  if (spec.kind === 'file') return fileSource(spec.path ?? SAMPLE_RECORDING, spec.speed ?? 1)
  if (spec.kind === 'device') return soxSource(spec.device)
  return new BrowserSource(spec.sampleRate)
}

/** The same device again after it was lost (a stethoscope plugged back in); other sources do not come back. */
export function reopenSource(spec: SourceSpec, lost: AudioSource): AudioSource | undefined {
  return spec.kind === 'device' ? soxSource(spec.device, lost.sampleRate) : undefined
}
