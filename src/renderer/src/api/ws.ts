import type { Artefact, ArtefactRequest, CommandName, ImportFile, ImportSummary, Params, Result } from '@core/api/app'
import {
  ARTEFACT_PATH,
  artefactQuery,
  AUDIO_FRAME_ID_BYTES,
  IMPORT_PATH,
  importQuery,
  TOKEN_META,
  WS_PATH,
  type ServerMessage,
} from '@core/api/wire'
import { fromWire, InternalError, type WireError } from '@core/errors'
import { EventHub, type ApiClient, type ConnectionState } from './client'

const BACKOFF_MS = [250, 500, 1000, 2000, 4000]

interface Pending {
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

/** The run's secret that the API requires, which the server wrote into the page it served (no other page has it). */
const pageSecret = (page: Document = document): string | undefined =>
  page.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_META}"]`)?.content

/**
 * The API over `phonoscope serve`'s WebSocket. Reconnects with backoff when the socket drops; event handlers live in
 * the hub, so they keep receiving after a reconnect. Calls made while disconnected wait for the connection; calls
 * in flight when it drops are rejected (the server may or may not have run them).
 */
export class WebSocketClient implements ApiClient {
  readonly mode = 'server' as const
  state: ConnectionState = 'connecting'
  private socket: WebSocket | undefined
  private readonly hub = new EventHub()
  private readonly stateHandlers = new Set<(state: ConnectionState) => void>()
  private readonly pending = new Map<number, Pending>()
  private readonly queue: string[] = []
  private nextId = 1
  private attempt = 0
  private secret: string | undefined
  private readonly base: URL

  constructor(location: Location = window.location) {
    this.base = new URL(location.href)
    this.secret = pageSecret()
    this.connect()
  }

  private socketUrl(): string {
    const url = new URL(WS_PATH, this.base)
    url.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:'
    url.search = ''
    // a browser's WebSocket cannot send headers: the secret goes in the query
    if (this.secret) url.searchParams.set('token', this.secret)
    return url.href
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    for (const handler of this.stateHandlers) handler(state)
  }

  private connect(): void {
    const socket = new WebSocket(this.socketUrl())
    socket.binaryType = 'arraybuffer'
    this.socket = socket
    socket.onopen = () => {
      this.attempt = 0
      this.setState('open')
      for (const message of this.queue.splice(0)) socket.send(message)
    }
    socket.onmessage = (event) => this.receive(String(event.data))
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = undefined
      const error = new InternalError('the connection to the Phonoscope server was lost')
      for (const waiting of this.pending.values()) waiting.reject(error)
      this.pending.clear()
      this.setState('lost')
      const delay = BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)]!
      setTimeout(() => void this.refreshSecret().then(() => this.connect()), delay)
    }
  }

  /** A restarted server has a new secret, in the page it now serves (which only this origin can read). */
  private async refreshSecret(): Promise<void> {
    try {
      const page = await (await fetch(new URL('/', this.base))).text()
      this.secret = pageSecret(new DOMParser().parseFromString(page, 'text/html')) ?? this.secret
    } catch {
      // still down: the next attempt asks again
    }
  }

  private receive(text: string): void {
    let message: ServerMessage
    try {
      message = JSON.parse(text) as ServerMessage
    } catch {
      return
    }
    if ('event' in message) return this.hub.emit(message.event, message.data)
    if (message.id === null || message.id === undefined) {
      if ('error' in message) this.hub.emit('error', message.error)
      return
    }
    const waiting = this.pending.get(message.id)
    if (!waiting) return
    this.pending.delete(message.id)
    if ('error' in message) waiting.reject(fromWire(message.error))
    else waiting.resolve(message.result)
  }

  call<C extends CommandName>(command: C, params: Params<C>): Promise<Result<C>> {
    const id = this.nextId++
    const text = JSON.stringify({ id, command, params })
    return new Promise<Result<C>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text)
      else this.queue.push(text)
    })
  }

  on: ApiClient['on'] = (event, handler) => this.hub.on(event, handler)

  onState(handler: (state: ConnectionState) => void): () => void {
    this.stateHandlers.add(handler)
    return () => void this.stateHandlers.delete(handler)
  }

  /** An artefact over the server's one HTTP route for them; a refusal keeps its kind (the status says which). */
  async artefact(request: ArtefactRequest): Promise<Artefact> {
    const url = new URL(ARTEFACT_PATH, this.base)
    url.search = artefactQuery(request).toString()
    const response = await fetch(url, { headers: this.authorization() })
    if (!response.ok) throw fromWire(await refusal(response))
    const disposition = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')
    return {
      kind: request.kind,
      mime: response.headers.get('Content-Type') ?? 'application/octet-stream',
      filename: disposition?.[1] ?? request.kind,
      bytes: new Uint8Array(await response.arrayBuffer()),
    }
  }

  /** Uploads for import in one request (a CirCor patient's sites become one examination): their bytes end to end. */
  async importFiles(files: ImportFile[]): Promise<ImportSummary> {
    const url = new URL(IMPORT_PATH, this.base)
    url.search = importQuery(files).toString()
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream', ...this.authorization() },
      body: new Blob(files.map((f) => f.bytes as Uint8Array<ArrayBuffer>)),
    })
    if (!response.ok) throw fromWire(await refusal(response))
    return (await response.json()) as ImportSummary
  }

  private authorization(): Record<string, string> {
    return this.secret ? { Authorization: `Bearer ${this.secret}` } : {}
  }

  sendAudio(session: string, samples: Float32Array): void {
    const socket = this.socket
    if (socket?.readyState !== WebSocket.OPEN) return
    const frame = new Uint8Array(AUDIO_FRAME_ID_BYTES + samples.length * 4)
    for (let i = 0; i < AUDIO_FRAME_ID_BYTES; i++) frame[i] = session.charCodeAt(i) & 0xff
    const view = new DataView(frame.buffer)
    for (let i = 0; i < samples.length; i++) view.setFloat32(AUDIO_FRAME_ID_BYTES + i * 4, samples[i]!, true)
    socket.send(frame)
  }
}

/** A refused artefact or upload: the server's WireError, or (refused before the API: Host, Origin, token) its status line. */
async function refusal(response: Response): Promise<WireError> {
  const body = await response.text()
  try {
    return JSON.parse(body) as WireError
  } catch {
    return { kind: 'internal', message: `${response.status}: ${body.trim()}` }
  }
}
