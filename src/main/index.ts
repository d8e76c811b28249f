import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { app, BrowserWindow, nativeTheme, session, utilityProcess } from 'electron'
import type { HostMessage, HostRequest } from './inference-host'

// Set by `electron-vite dev`; absent in a built app, which loads the bundled renderer from disk.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL']
const rendererFile = join(import.meta.dirname, '../renderer/index.html')
const appOrigin = devServerUrl ? new URL(devServerUrl).origin : pathToFileURL(rendererFile).href

let mainWindow: BrowserWindow | undefined

function openMainWindow(): void {
  const win = new BrowserWindow({
    title: 'Phonoscope',
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    show: false,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#101418' : '#f7f9fb',
    autoHideMenuBar: true,
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  })
  win.once('ready-to-show', () => win.show())
  win.on('closed', () => (mainWindow = undefined))
  if (devServerUrl) void win.loadURL(devServerUrl)
  else void win.loadFile(rendererFile)
  mainWindow = win
}

function isAppUrl(url: string): boolean {
  return devServerUrl ? new URL(url).origin === appOrigin : url.startsWith(appOrigin)
}

function startInferenceHost(): void {
  const host = utilityProcess.fork(join(import.meta.dirname, 'inference-host.js'), [], {
    serviceName: 'Phonoscope inference host',
  })
  host.on('message', (message: HostMessage) => {
    if (message.type === 'ready') console.log(`inference host ready (pid ${message.pid})`)
  })
  host.on('exit', (code) => {
    if (code !== 0) console.error(`inference host exited with code ${code}`)
  })
  host.postMessage({ type: 'hello' } satisfies HostRequest)
}

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.enableSandbox()

  app.on('second-instance', () => {
    if (!mainWindow) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
  })

  // No remote content: no new windows, no navigation away from the app, no permission grants.
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault()
    })
  })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
    openMainWindow()
    app.on('activate', () => {
      if (!mainWindow) openMainWindow()
    })
    startInferenceHost()
  })
}
