import { contextBridge, ipcRenderer } from 'electron'
import type { EventName, Events } from '../core/api/app'
import { IPC_AUDIO, IPC_CALL, IPC_EVENT, IPC_PICK_AUDIO, type IpcReply, type PhonoscopeBridge } from './bridge'

// Injected at build time from package.json (electron.vite.config.ts): `app` is not reachable from a sandboxed preload.
declare const __APP_VERSION__: string

const handlers = new Map<string, Set<(data: unknown) => void>>()
ipcRenderer.on(IPC_EVENT, (_event, message: { event: EventName; data: unknown }) => {
  for (const handler of handlers.get(message.event) ?? []) handler(message.data)
})

/** A request to the main process, its error (sent as data) thrown here with its message intact. */
async function invoke(channel: string, ...args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(channel, ...args)) as IpcReply
  if (!reply.ok) throw new Error(reply.message)
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
  siteAudio: async (session, site) => {
    const bytes = (await invoke(IPC_AUDIO, session, site)) as Uint8Array
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  },
  pickAudioFile: async () => (await invoke(IPC_PICK_AUDIO)) as string | undefined,
}

contextBridge.exposeInMainWorld('phonoscope', bridge)
