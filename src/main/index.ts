import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { app, BrowserWindow, dialog, ipcMain, nativeTheme, session, utilityProcess } from 'electron'
import { EVENT_NAMES, type CommandName } from '../core/api/app'
import type { HostMessage, HostRequest } from '../core/api/inference'
import { startBackEnd, type BackEnd } from '../core/backend/back-end'
import { errorText, toWire } from '../core/errors'
import type { HostLauncher } from '../core/model/client'
import { IPC_ARTEFACT, IPC_CALL, IPC_EVENT, IPC_IMPORT, IPC_PICK_AUDIO, type IpcReply } from '../preload/bridge'
import { isAppUrl, mayGrantPermission, type RendererLocation } from './guards'

// Set by `electron-vite dev`; absent in a built app, which loads the bundled renderer from disk.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL']
const rendererFile = join(import.meta.dirname, '../renderer/index.html')
const renderer: RendererLocation = devServerUrl
  ? { devServerUrl }
  : { rendererFileUrl: pathToFileURL(rendererFile).href }
/** The recordings the user picked in the open dialog: besides the sample, the only files a file source may read. */
const pickedFiles = new Set<string>()

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
  // `--demo`: the live view replays the sample recording at once, as if from a stethoscope (README)
  const query = process.argv.includes('--demo') ? { demo: '1' } : undefined
  if (devServerUrl) void win.loadURL(query ? `${devServerUrl}?demo=1` : devServerUrl)
  else void win.loadFile(rendererFile, { query })
  mainWindow = win
}

/** The inference host (src/main/inference-host.ts) as an Electron utilityProcess, for the shared InferenceClient. */
const utilityProcessLauncher: HostLauncher = () => {
  const host = utilityProcess.fork(join(import.meta.dirname, 'inference-host.js'), [], {
    serviceName: 'Phonoscope inference host',
  })
  return {
    get pid() {
      return host.pid
    },
    send: (request: HostRequest) => host.postMessage(request),
    onMessage: (handler) => host.on('message', (message: HostMessage) => handler(message)),
    onExit: (handler) => host.once('exit', (code) => handler(code, null)),
    kill: () => void host.kill(),
  }
}

/** The back end in the main process: the same one `phonoscope serve` runs, its inference host a utility process. */
async function startMainBackEnd(): Promise<BackEnd> {
  const backEnd = await startBackEnd({
    launcher: utilityProcessLauncher,
    inference: { cpuMemArena: false },
    // imports decode and classify in a worker thread (its entry in electron.vite.config.ts), not on this one
    recordingWorker: pathToFileURL(join(import.meta.dirname, 'recording-worker.js')),
    allowedFiles: pickedFiles,
    onRecovered: (id) => console.warn(`session ${id} was interrupted; its audio is kept`),
  })
  for (const event of EVENT_NAMES) {
    backEnd.api.on(event, (data) => mainWindow?.webContents.send(IPC_EVENT, { event, data }))
  }
  return backEnd
}

/**
 * The contract on IPC: commands on one invoke channel (answered once the back end is up, or with why it is not),
 * events forwarded to the window on one channel (src/preload/index.ts is the other end).
 */
function serveIpc(backEnd: Promise<BackEnd>): void {
  const answer = async (work: (running: BackEnd) => Promise<unknown>): Promise<IpcReply> => {
    try {
      return { ok: true, result: await work(await backEnd) }
    } catch (error) {
      return { ok: false, error: toWire(error) }
    }
  }
  // whatever the renderer sends: service.call checks it against the contract (validateCall)
  ipcMain.handle(IPC_CALL, (_event, command: unknown, params: unknown) =>
    answer(({ api }) => api.call(command as CommandName, params as never)),
  )
  ipcMain.handle(IPC_PICK_AUDIO, (event) =>
    answer(async () => {
      const owner = BrowserWindow.fromWebContents(event.sender)
      const options: Electron.OpenDialogOptions = {
        title: 'Open a heart-sound recording',
        properties: ['openFile'],
        filters: [{ name: 'WAV or FLAC', extensions: ['wav', 'flac'] }],
      }
      const { canceled, filePaths } = await (owner
        ? dialog.showOpenDialog(owner, options)
        : dialog.showOpenDialog(options))
      const picked = canceled ? undefined : filePaths[0]
      if (picked) pickedFiles.add(picked) // the dialog gives absolute paths
      return picked
    }),
  )
  // checked against the contract by api.artefact (validateArtefact)
  ipcMain.handle(IPC_ARTEFACT, (_event, request: unknown) => answer(({ api }) => api.artefact(request as never)))
  // checked by api.importFiles (validateImport): names, kinds, sizes; the bytes arrive as a Uint8Array (structured clone)
  ipcMain.handle(IPC_IMPORT, (_event, files: unknown) => answer(({ api }) => api.importFiles(files as never)))
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

  // No remote content: no new windows or webviews, no navigation or redirect away from the app (the page or any
  // frame), no permission grants.
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
    contents.on('will-attach-webview', (event) => event.preventDefault())
    const stayOnApp = (details: { url: string; preventDefault(): void }) => {
      if (!isAppUrl(details.url, renderer)) details.preventDefault()
    }
    contents.on('will-navigate', stayOnApp)
    contents.on('will-frame-navigate', stayOnApp)
    contents.on('will-redirect', stayOnApp)
  })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  let backEnd: Promise<BackEnd> | undefined
  let quitting = false
  app.on('before-quit', (event) => {
    if (quitting) return
    event.preventDefault()
    quitting = true
    // close recordings properly (the WAV header, the site verdict) before the inference host goes
    void (backEnd ?? Promise.reject(new Error('not started')))
      .then((running) => running.close())
      .catch(() => undefined)
      .finally(() => app.quit())
  })

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
      callback(mayGrantPermission(permission)),
    )
    session.defaultSession.setPermissionCheckHandler((_contents, permission) => mayGrantPermission(permission))
    session.defaultSession.setDevicePermissionHandler((details) => mayGrantPermission(details.deviceType))
    backEnd = startMainBackEnd().catch((error: unknown) => {
      console.error(`phonoscope: ${errorText(error)}`)
      throw new Error(`the analysis back end did not start: ${errorText(error)}`)
    })
    backEnd.catch(() => undefined) // answered to each command instead
    serveIpc(backEnd)
    openMainWindow()
    app.on('activate', () => {
      if (!mainWindow) openMainWindow()
    })
  })
}
