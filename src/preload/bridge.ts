// The surface the preload script exposes to the renderer as `window.phonoscope`. Types only: the renderer
// imports this file for its `Window` declaration, never the preload code itself.
import type { CommandName, EventName, Events, Params, Result, Site } from '../core/api/app'

/** IPC channels between the preload script and the main process (src/main/index.ts). */
export const IPC_CALL = 'phonoscope:call'
export const IPC_EVENT = 'phonoscope:event'
export const IPC_AUDIO = 'phonoscope:audio'
export const IPC_PICK_AUDIO = 'phonoscope:pick-audio'

/** What the main process answers on IPC_CALL: errors travel as data so their message arrives unwrapped. */
export type IpcReply = { ok: true; result: unknown } | { ok: false; message: string }

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
  /** the recorded WAV of a site (the bytes `phonoscope serve` gives at /api/sessions/:id/sites/:site/audio.wav) */
  siteAudio(session: string, site: Site): Promise<ArrayBuffer>
  /**
   * The user picks a recording (WAV or FLAC) in the system's dialog; its path may then be a file source (no other
   * path outside the app may). Undefined when the dialog was cancelled.
   */
  pickAudioFile(): Promise<string | undefined>
}
