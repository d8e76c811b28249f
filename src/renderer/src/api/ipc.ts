import type { PhonoscopeBridge } from '../../../preload/bridge'
import type { ApiClient, ConnectionState } from './client'

/** The API inside Electron: window.phonoscope (src/preload) over ipcRenderer.invoke and one event channel. */
export class IpcClient implements ApiClient {
  readonly mode = 'electron' as const
  readonly state: ConnectionState = 'open'

  constructor(private readonly bridge: PhonoscopeBridge) {}

  call: ApiClient['call'] = (command, params) => this.bridge.call(command, params)
  on: ApiClient['on'] = (event, handler) => this.bridge.on(event, handler)
  onState(): () => void {
    return () => undefined
  }
  artefact: ApiClient['artefact'] = (request) => this.bridge.artefact(request)
  importFiles: ApiClient['importFiles'] = (files) => this.bridge.importFiles(files)
}
