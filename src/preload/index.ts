import { contextBridge, ipcRenderer } from 'electron'
import type { EventName, Events } from '../core/api/app'
import { fromWire } from '../core/errors'
import {
  IPC_ARTEFACT,
  IPC_CALL,
  IPC_EVENT,
  IPC_IMPORT,
  IPC_PICK_AUDIO,
  type IpcReply,
  type PhonoscopeBridge,
} from './bridge'

// Injected at build time from package.json (electron.vite.config.ts): `app` is not reachable from a sandboxed preload.
declare const __APP_VERSION__: string

const handlers = new Map<string, Set<(data: unknown) => void>>()
ipcRenderer.on(IPC_EVENT, (_event, message: { event: EventName; data: unknown }) => {
  for (const handler of handlers.get(message.event) ?? []) handler(message.data)
})

/** A request to the main process; its error (sent as data) is rebuilt here with its kind and message. */
async function invoke(channel: string, ...args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(channel, ...args)) as IpcReply
  if (!reply.ok) throw fromWire(reply.error)
  return reply.result
}

const bridge: PhonoscopeBridge = {
  versions: {
    app: __APP_VERSION__,
    electron: process.versions.electron,
    chrome: process.versions.chrome,
    node: process.versions.node,
  },
  call: async (command, params) => (await invoke(IPC_CALL, command, params)) as never,
  on: <E extends EventName>(event: E, handler: (data: Events[E]) => void) => {
    let set = handlers.get(event)
    if (!set) handlers.set(event, (set = new Set()))
    const wrapped = handler as (data: unknown) => void
    set.add(wrapped)
    return () => void set.delete(wrapped)
  },
  artefact: async (request) => (await invoke(IPC_ARTEFACT, request)) as never,
  importFiles: async (files) => (await invoke(IPC_IMPORT, files)) as never,
  pickAudioFile: async () => (await invoke(IPC_PICK_AUDIO)) as string | undefined,
}

contextBridge.exposeInMainWorld('phonoscope', bridge)
