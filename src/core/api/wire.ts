/**
 * The server transport's messages (WebSocket, JSON text frames), carrying the contract of app.ts unchanged.
 * Browser PCM travels in binary frames: the 20-character session id in ASCII, then float32 little-endian samples.
 */
import type { ArtefactRequest, CommandName, EventName, Events, ImportFile } from './app'
import type { WireError } from '../errors'

export type ClientMessage = { id: number; command: CommandName; params: unknown }

export type ServerMessage =
  | { id: number; result: unknown }
  | { id: number | null; error: WireError }
  | { [E in EventName]: { event: E; data: Events[E] } }[EventName]

/** Session ids are 20 ASCII characters (store.newSessionId), the header of a binary audio frame. */
export const AUDIO_FRAME_ID_BYTES = 20
/** The largest message the server accepts; larger ones close the socket with 1009 (message too big). */
export const MAX_MESSAGE_BYTES = 1 << 20
export const WS_PATH = '/api/ws'
/**
 * The meta tag in which the served page carries the run's secret; the API (WebSocket, audio) requires it as ?token= or
 * an `Authorization: Bearer` header, on loopback too.
 */
export const TOKEN_META = 'phonoscope-token'

/** The one HTTP route for binary artefacts (GET, the request as its query: artefactQuery), beside the socket. */
export const ARTEFACT_PATH = '/api/artefact'

/** An artefact request as the query of ARTEFACT_PATH: its keys and values as strings (booleans as true/false). */
export function artefactQuery(request: ArtefactRequest): URLSearchParams {
  return new URLSearchParams(Object.entries(request).map(([key, value]): [string, string] => [key, String(value)]))
}

/**
 * The one HTTP route for uploads (POST): the files' names and sizes in the query (importQuery), their bytes one after
 * another as the body, so the server checks them all before it reads a byte, and files a CirCor patient's sites
 * together as one examination.
 */
export const IMPORT_PATH = '/api/import'

export function importQuery(files: readonly ImportFile[]): URLSearchParams {
  return new URLSearchParams(
    files.flatMap(({ name, bytes }): [string, string][] => [
      ['name', name],
      ['size', String(bytes.byteLength)],
    ]),
  )
}
