import type { PhonoscopeBridge } from '../../preload/bridge'

declare global {
  interface Window {
    /** Present inside Electron (src/preload); absent when the UI is served to a plain browser. */
    phonoscope?: PhonoscopeBridge
  }
}
