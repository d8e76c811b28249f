import type { ApiClient } from './client'
import { IpcClient } from './ipc'
import { WebSocketClient } from './ws'

export type { ApiClient, ConnectionState } from './client'

/** The one client of the UI: IPC inside Electron, the WebSocket of `phonoscope serve` in a browser. */
export function createApi(): ApiClient {
  const bridge = window.phonoscope
  return bridge?.call ? new IpcClient(bridge) : new WebSocketClient()
}
