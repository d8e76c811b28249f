import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { TOKEN_META, WS_PATH, type ServerMessage } from '../../src/core/api/wire'
import { appRoot } from '../../src/core/paths'
import { composeBackEnd, type BackEndApi } from '../../src/core/backend/back-end'
import { SessionStore } from '../../src/core/sessions/store'
import { tinyModel } from '../unit/model-fixture'
import { REPO_ROOT } from './paths'
import { inProcessRuntime } from './runtime'

/** The renderer's source folder: its index.html carries the real Content-Security-Policy the server must send. */
export const RENDERER_DIR = join(REPO_ROOT, 'src', 'renderer')

/** The back end on the tiny model and a fresh sessions folder, replaying only the bundled samples. */
export async function testBackEnd(): Promise<BackEndApi> {
  const runtime = await inProcessRuntime(tinyModel())
  const store = new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-serve-')))
  return composeBackEnd(store, runtime, { fileRoots: [join(appRoot(), 'resources')] }).api
}

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One HTTP request with exactly the headers given (a Host of our choosing, or none: `host: undefined`). */
export function request(url: string, headers: Record<string, string | undefined> = {}, method = 'GET'): Promise<Reply> {
  const noHost = 'host' in headers && headers.host === undefined
  const sent = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: sent, setHost: !noHost }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** The run's secret, read from the page the server serves, as the renderer reads it. */
export async function pageSecret(serverUrl: string): Promise<string> {
  const page = (await request(serverUrl)).body
  const secret = new RegExp(`<meta name="${TOKEN_META}" content="([^"]+)"`).exec(page)?.[1]
  if (!secret) throw new Error(`the page at ${serverUrl} carries no secret`)
  return secret
}

/** The socket address of a server, with the secret when given. */
export function socketUrl(serverUrl: string, secret?: string): string {
  const url = new URL(WS_PATH, serverUrl.replace(/^http/, 'ws'))
  if (secret !== undefined) url.searchParams.set('token', secret)
  return url.href
}

/** A WebSocket client that collects every message and can await the one it needs. */
export async function client(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers })
  const messages: ServerMessage[] = []
  const waiters: [(m: ServerMessage) => boolean, (m: ServerMessage) => void][] = []
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as ServerMessage
    messages.push(m)
    for (const [test, resolve] of [...waiters]) if (test(m)) resolve(m)
  })
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
  let id = 0
  return {
    ws,
    messages,
    next: (test: (m: ServerMessage) => boolean) =>
      new Promise<ServerMessage>((resolve) => {
        const seen = messages.find(test)
        if (seen) return resolve(seen)
        waiters.push([test, resolve])
      }),
    async call(command: string, params: unknown): Promise<ServerMessage> {
      const n = ++id
      ws.send(JSON.stringify({ id: n, command, params }))
      return this.next((m) => 'id' in m && m.id === n)
    },
  }
}
