import { contextBridge } from 'electron'
import type { PhonoscopeBridge } from './bridge'

// Injected at build time from package.json (electron.vite.config.ts): `app` is not reachable from a sandboxed preload.
declare const __APP_VERSION__: string

const bridge: PhonoscopeBridge = {
  versions: {
    app: __APP_VERSION__,
    electron: process.versions.electron,
    chrome: process.versions.chrome,
    node: process.versions.node,
  },
}

contextBridge.exposeInMainWorld('phonoscope', bridge)
