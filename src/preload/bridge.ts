// The surface the preload script exposes to the renderer as `window.phonoscope`. Types only: the renderer
// imports this file for its `Window` declaration, never the preload code itself.
import type {
  Artefact,
  ArtefactRequest,
  CommandName,
  EventName,
  Events,
  ImportFile,
  ImportSummary,
  Params,
  Result,
} from '../core/api/app'
import type { WireError } from '../core/errors'

/** IPC channels between the preload script and the main process (src/main/index.ts). */
export const IPC_CALL = 'phonoscope:call'
export const IPC_EVENT = 'phonoscope:event'
export const IPC_ARTEFACT = 'phonoscope:artefact'
export const IPC_IMPORT = 'phonoscope:import'
export const IPC_PICK_AUDIO = 'phonoscope:pick-audio'

/** What the main process answers: errors travel as data (their kind and message intact; the preload rebuilds them). */
export type IpcReply = { ok: true; result: unknown } | { ok: false; error: WireError }

export interface PhonoscopeBridge {
  versions: {
    app: string
    electron: string
    chrome: string
    node: string
  }
  /** a command of the API contract, run by the SessionService in the main process */
  call<C extends CommandName>(command: C, params: Params<C>): Promise<Result<C>>
  /** every event of the contract, on one channel */
  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void
  /** a binary artefact of an examination (what `phonoscope serve` gives at /api/artefact) */
  artefact(request: ArtefactRequest): Promise<Artefact>
  /** recordings and bundles the user dropped or picked, imported (what `phonoscope serve` takes at /api/import) */
  importFiles(files: ImportFile[]): Promise<ImportSummary>
  /**
   * The user picks a recording (WAV or FLAC) in the system's dialog; its path may then be a file source (no other
   * path outside the app may). Undefined when the dialog was cancelled.
   */
  pickAudioFile(): Promise<string | undefined>
}
