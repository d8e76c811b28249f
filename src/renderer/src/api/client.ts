import type { EventName, Events, PhonoscopeApi } from '@core/api/app'

export type ConnectionState = 'connecting' | 'open' | 'lost'

/**
 * What the UI talks to: the contract of src/core/api/app.ts (PhonoscopeApi) plus the few things a transport adds.
 * Two implementations: Electron IPC (ipc.ts) and WebSocket to `phonoscope serve` (ws.ts).
 */
export interface ApiClient extends PhonoscopeApi {
  readonly mode: 'electron' | 'server'
  /** the connection to the back end; IPC is always 'open' */
  readonly state: ConnectionState
  onState(handler: (state: ConnectionState) => void): () => void
  /** browser microphone PCM for a session whose source is {kind:'browser'} (server mode only) */
  sendAudio?(session: string, samples: Float32Array): void
}

/** Handlers per event, shared by both transports. */
export class EventHub {
  private readonly handlers = new Map<EventName, Set<(data: never) => void>>()

  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void {
    let set = this.handlers.get(event)
    if (!set) this.handlers.set(event, (set = new Set()))
    set.add(handler as (data: never) => void)
    return () => void set.delete(handler as (data: never) => void)
  }

  emit(event: string, data: unknown): void {
    for (const handler of this.handlers.get(event as EventName) ?? []) {
      try {
        handler(data as never)
      } catch (error) {
        console.error(`handler of ${event} failed`, error)
      }
    }
  }
}
