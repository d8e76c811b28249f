/**
 * The application contract: every command the UI can send and every event it receives, typed once and carried by
 * two transports, Electron IPC (src/preload) and HTTP + WebSocket (src/server). Nothing here knows which.
 * Values are plain JSON (numbers in arrays, not typed arrays) so both transports carry them unchanged.
 */
import type { ClassName, Probabilities } from './classes'

export const SITES = ['AV', 'PV', 'TV', 'MV'] as const
export type Site = (typeof SITES)[number]

export interface DeviceInfo {
  /** what `source.device` takes: the capture device's name as the OS lists it */
  id: string
  label: string
  kind: 'capture' | 'file'
}

/** Where a session's sound comes from. */
export type SourceSpec =
  /** a stethoscope (or any capture device) through sox */
  | { kind: 'device'; device: string }
  /** a recording replayed at real time (speed 1), faster, or unpaced (speed 0), as if from a stethoscope; default: the sample */
  | { kind: 'file'; path?: string; speed?: number }
  /** the browser's microphone (server mode): PCM arrives over the WebSocket as 'audio' messages */
  | { kind: 'browser'; sampleRate: number }

export type SiteStatus = 'pending' | 'recording' | 'done' | 'skipped' | 'interrupted'
export type SessionStatus = 'recording' | 'complete' | 'interrupted'

export interface WindowVerdict {
  site: Site
  index: number
  start_s: number
  end_s: number
  /** true before a full window (936 frames) has been heard: a verdict on less sound than the model's window */
  provisional: boolean
  probabilities: Probabilities
  verdict: ClassName
  /** the model's attention for the verdict's class, [time'][freq'] row-major, sums to 1 */
  attention: { time: number; freq: number; data: number[] }
  /** first frame and frame count of the spectrogram the attention covers */
  first_frame: number
  frames: number
  provider: string
  ms: number
}

export interface SiteRecord {
  site: Site
  status: SiteStatus
  /** seconds of audio on disk, at sample_rate (the source's own rate, kept losslessly) */
  duration_s: number
  sample_rate: number
  windows: WindowVerdict[]
  /** the site's verdict: the mean of its final windows' probabilities (none while only provisional) */
  probabilities?: Probabilities
  verdict?: ClassName
}

export interface SessionInfo {
  id: string
  created: string
  patient: string
  status: SessionStatus
  source: SourceSpec
  sites: SiteRecord[]
  /** the patient verdict over the sites, by the model card's rule */
  probabilities?: Probabilities
  verdict?: ClassName
  model: { name: string; sha256: string; aggregation: string }
  notes: string
  /** windows dropped because inference was slower than the hop (never queued without bound) */
  dropped_windows: number
}

export interface Commands {
  'devices.list': { params: Record<string, never>; result: DeviceInfo[] }
  'session.start': { params: { patient?: string; source: SourceSpec; hop_s?: number }; result: SessionInfo }
  'site.start': { params: { session: string; site: Site }; result: SessionInfo }
  'site.stop': { params: { session: string }; result: SessionInfo }
  'site.skip': { params: { session: string; site: Site }; result: SessionInfo }
  'session.stop': { params: { session: string }; result: SessionInfo }
  'sessions.list': { params: Record<string, never>; result: SessionInfo[] }
  'session.get': { params: { session: string }; result: SessionInfo }
  /** the whole log-Mel of a recorded site, for review */
  'site.spectrogram': {
    params: { session: string; site: Site }
    result: { frames: number; n_mels: number; hop_s: number; data: number[] }
  }
}
export type CommandName = keyof Commands
export type Params<C extends CommandName> = Commands[C]['params']
export type Result<C extends CommandName> = Commands[C]['result']

export interface Events {
  /** new spectrogram columns of the site being recorded, [frames][n_mels] row-major log-Mel */
  columns: { session: string; site: Site; first_frame: number; frames: number; n_mels: number; data: number[] }
  /** input level over the last chunk */
  level: { session: string; rms_db: number; peak: number; clipping: boolean }
  /** PCG waveform for display, decimated */
  waveform: { session: string; site: Site; rate: number; data: number[] }
  verdict: { session: string } & WindowVerdict
  /** the capture device went away or came back; recording up to that point is kept */
  device: { session: string; state: 'lost' | 'restored'; message: string }
  session: SessionInfo
  error: { message: string; command?: string }
}
export type EventName = keyof Events

/** What both transports implement for the renderer: commands that answer, events that arrive. */
export interface PhonoscopeApi {
  call<C extends CommandName>(command: C, params: Params<C>): Promise<Result<C>>
  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void
}
