import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { TOKEN_META, WS_PATH } from '../../src/core/api/wire'
import { REPO_ROOT } from './paths'

export const CHROMIUM = process.env.PHONOSCOPE_CHROMIUM ?? '/usr/bin/chromium'
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'screenshots')

/**
 * Whether Debian's Chromium is there. Missing, it fails the run under CI=true (set-up installs it); elsewhere the
 * browser tests are skipped with the reason.
 */
export function chromiumAvailable(): boolean {
  const available = existsSync(CHROMIUM)
  if (!available && process.env.CI === 'true')
    throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/setup.sh`)
  if (!existsSync(join(REPO_ROOT, 'out', 'renderer', 'index.html'))) {
    throw new Error('the UI is not built (out/renderer): run `npm run build` first')
  }
  return available
}

/** Chromium as the tests run it; `extraArgs` adds switches (a fake microphone). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  })
}

export interface AppServer {
  url: string
  port: number
  process: ChildProcess
  /** SIGTERM (a clean stop) or SIGKILL (a crash); resolves when the process is gone */
  stop(signal?: NodeJS.Signals): Promise<void>
}

/**
 * `phonoscope serve` as a user runs it, on a sessions folder of the test's own; resolves once it listens. `env` adds
 * to its environment (PHONOSCOPE_DATA: a folder of the test's recordings it may replay).
 */
export function startServer(
  sessions: string,
  port = 0,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<AppServer> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin', 'phonoscope.mjs'), 'serve', '--port', String(port), '--sessions', sessions, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } },
  )
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += String(data)
      const url = /serving at (http:\/\/[^\s?]+)/.exec(output)?.[1]
      if (!url) return
      child.stdout!.off('data', onData)
      resolve({
        url,
        port: Number(new URL(url).port),
        process: child,
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal)
          await exited
        },
      })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (data) => (output += String(data)))
    child.once('exit', (code) => reject(new Error(`phonoscope serve exited (${code}) before listening:\n${output}`)))
  })
}

/** A canvas's pixels, summarised: how many are not transparent, and a checksum that changes when any does. */
export function canvasSummary(page: Page, testId: string): Promise<{ painted: number; checksum: number }> {
  return page.$eval(`[data-testid=${testId}]`, (element) => {
    const canvas = element as HTMLCanvasElement
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height)
    let painted = 0
    let checksum = 0
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 0) painted++
      checksum = (checksum * 31 + data[i]! + data[i + 1]! * 7 + data[i + 2]! * 13 + data[i + 3]! * 17) >>> 0
    }
    return { painted, checksum }
  })
}

/** The three probabilities a verdict panel shows, as the numbers on screen (percent). */
export async function shownProbabilities(page: Page, panel: string): Promise<number[]> {
  const texts = await page.$$eval(`[data-testid=${panel}] [data-testid=probabilities] dd`, (dds) =>
    dds.map((dd) => dd.textContent ?? ''),
  )
  return texts.map((t) => Number.parseFloat(t))
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const path = join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path })
  return path
}

export interface AppUnderTest {
  /** the server now running (the disconnect test replaces it) */
  server: AppServer
  page: Page
  /** the sessions folder the server stores into */
  sessions: string
}

/**
 * Registers the hooks of a browser test: `phonoscope serve` on a fresh sessions folder, Chromium, one page; all
 * closed afterwards. The returned object is filled in before the first test runs.
 */
export function appUnderTest(
  serveOptions: string[] = [],
  viewport = { width: 1440, height: 1000 },
  chromiumArgs: string[] = [],
  env: Record<string, string> = {},
): AppUnderTest {
  const app = { sessions: mkdtempSync(join(tmpdir(), 'phonoscope-ui-')) } as AppUnderTest
  let browser: Browser | undefined
  beforeAll(async () => {
    app.server = await startServer(app.sessions, 0, serveOptions, env)
    browser = await launchChromium(chromiumArgs)
    app.page = await browser.newPage({ viewport })
  })
  afterAll(async () => {
    await browser?.close()
    await app.server?.stop()
  })
  return app
}

/**
 * Opens the app with its sample recording chosen as the source, replayed at `speed`, ready to start; returns the page
 * errors seen from then on (a test expects none).
 */
export async function openWithSample(page: Page, url: string, speed: number): Promise<string[]> {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(url)
  const option = '[data-testid=device-picker] option[value$=".flac"]'
  await page.waitForSelector(option, { state: 'attached' })
  const sample = await page.$eval(option, (o) => o.getAttribute('value'))
  await page.selectOption('[data-testid=device-picker]', sample!)
  await page.selectOption('[data-testid=replay-speed]', String(speed))
  return errors
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** What axe-core finds against WCAG 2.2 A and AA on the page as it is now: one line per violation and element. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  // evaluated through the debugging protocol: the app's Content-Security-Policy rightly refuses inline scripts
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE)
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe
    const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']
    const { violations } = await axe.run(document, { runOnly: { type: 'tag', values: tags } })
    return violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}: ${n.failureSummary ?? ''}`))
  })
}

/**
 * One API call from another window of the app: a WebSocket of the page's own origin (with the page's secret, where
 * the server gave it one), as a second tab would send it. Resolves with the result, or `{ error }`.
 */
export function callFromPage(
  page: Page,
  command: string,
  params: unknown,
): Promise<{ result?: unknown; error?: string }> {
  return page.evaluate(
    ([command, params, path, meta]) =>
      new Promise((resolve, reject) => {
        const url = new URL(path, location.href)
        url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
        const secret = document.querySelector<HTMLMetaElement>(`meta[name="${meta}"]`)?.content
        if (secret) url.searchParams.set('token', secret)
        const socket = new WebSocket(url)
        socket.onerror = () => reject(new Error(`no WebSocket at ${url.pathname}`))
        socket.onopen = () => socket.send(JSON.stringify({ id: 1, command, params }))
        socket.onmessage = (message) => {
          const reply = JSON.parse(String(message.data)) as {
            id?: number
            result?: unknown
            error?: { message: string }
          }
          if (reply.id !== 1) return
          socket.close()
          resolve({ result: reply.result, error: reply.error?.message })
        }
      }),
    [command, params, WS_PATH, TOKEN_META] as const,
  )
}

/**
 * The app's start screen in the test's page and in a second window (as another tab would open it); `errors` collects
 * the test page's uncaught errors.
 */
export async function withSecondWindow(app: AppUnderTest): Promise<{ other: Page; errors: string[] }> {
  const errors: string[] = []
  app.page.on('pageerror', (error) => errors.push(error.message))
  const other = await app.page.context().browser()!.newPage()
  for (const page of [app.page, other]) {
    await page.goto(app.server.url)
    await page.waitForSelector('[data-testid=start-session]')
  }
  return { other, errors }
}
