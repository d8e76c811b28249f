// The surface the preload script exposes to the renderer as `window.phonoscope`. Types only: the renderer
// imports this file for its `Window` declaration, never the preload code itself.

export interface PhonoscopeBridge {
  versions: {
    app: string
    electron: string
    chrome: string
    node: string
  }
}
