// The Electron main process's decisions about what the renderer may reach, as pure functions (no `electron` import)
// so that tests can check them without an Electron binary. src/main/index.ts wires them into the navigation and
// permission handlers.

/** Where the app's renderer comes from: `electron-vite dev`'s server, or the bundled index.html on disk. */
export type RendererLocation = { devServerUrl: string } | { rendererFileUrl: string }

/**
 * Whether a navigation target is the app's own page: the dev server's origin, or exactly the bundled index.html
 * (any query or fragment). Anything else (a web page, another local file, a look-alike path) is refused.
 */
export function isAppUrl(url: string, renderer: RendererLocation): boolean {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return false
  }
  if ('devServerUrl' in renderer) return target.origin === new URL(renderer.devServerUrl).origin
  const page = new URL(renderer.rendererFileUrl)
  return target.protocol === 'file:' && target.host === page.host && target.pathname === page.pathname
}

/**
 * The app asks Chromium for no permission (capture runs in the main process, through sox; the microphone API is for
 * `phonoscope serve` in a browser), so every request and every check is refused, whoever asks.
 */
export function mayGrantPermission(_permission: string): boolean {
  return false
}
