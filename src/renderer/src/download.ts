import type { Artefact } from '@core/api/app'

/**
 * Saves an artefact as the browser saves any download: a blob URL behind an <a download>, the same in Electron and
 * in a browser (no file dialog of the app's own). The URL is let go once the click has been handled.
 */
export function download(artefact: Artefact): void {
  const url = URL.createObjectURL(new Blob([artefact.bytes.slice()], { type: artefact.mime }))
  const link = document.createElement('a')
  link.href = url
  link.download = artefact.filename
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 0)
}
