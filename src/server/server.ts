import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import { SITES, type CommandName, type EventName, type Site } from '../core/api/app'
import {
  AUDIO_FRAME_ID_BYTES,
  MAX_MESSAGE_BYTES,
  TOKEN_COOKIE,
  WS_PATH,
  type ClientMessage,
  type ServerMessage,
} from '../core/api/wire'
import { isInputError } from '../core/errors'
import type { SessionService } from '../core/sessions/service'

const EVENTS: EventName[] = ['columns', 'level', 'waveform', 'verdict', 'device', 'session', 'error']
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

export interface ServeOptions {
  service: SessionService
  host: string
  port: number
  /** the built renderer (out/renderer) */
  staticDir: string
  /** required on every request and socket; generated when listening beyond loopback */
  token?: string
}

export interface RunningServer {
  url: string
  token: string | undefined
  close(): Promise<void>
}

/**
 * `phonoscope serve`: the built renderer plus the API contract over WebSocket (and GET for recorded audio), for a
 * browser instead of Electron. Loopback by default; any other address requires the token, given once as ?token=
 * (then kept in an HttpOnly cookie) or as a Bearer header. Malformed, oversized or unauthorised messages are refused
 * with an error; the server keeps serving.
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { service, staticDir } = options
  const token = options.token ?? (LOOPBACK.has(options.host) ? undefined : randomBytes(18).toString('base64url'))

  const http = createServer((req, res) => {
    handleHttp(req, res).catch((error: unknown) => fail(res, isInputError(error) ? 404 : 500, errorText(error)))
  })

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!authorised(req, url)) return fail(res, 401, 'a valid token is required')
    if (token && url.searchParams.get('token') === token) {
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
    }
    const audio = /^\/api\/sessions\/([^/]+)\/sites\/([^/]+)\/audio\.wav$/.exec(url.pathname)
    if (audio) return sendAudio(res, decodeURIComponent(audio[1]!), decodeURIComponent(audio[2]!))
    if (req.method !== 'GET') return fail(res, 405, 'only GET here; commands go over the WebSocket')
    return sendStatic(res, url.pathname)
  }

  async function sendAudio(res: ServerResponse, session: string, site: string): Promise<void> {
    if (!SITES.includes(site as Site)) return fail(res, 404, 'no such site')
    await service.store.get(session) // validates the id; throws InputError when unknown
    const path = service.store.sitePath(session, site as Site)
    if (!existsSync(path)) return fail(res, 404, 'this site has no recording')
    res.writeHead(200, { 'Content-Type': 'audio/wav', 'Content-Length': statSync(path).size })
    createReadStream(path).pipe(res)
  }

  function sendStatic(res: ServerResponse, pathname: string): void {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '')
    const path = join(staticDir, relative === '' ? 'index.html' : relative)
    if (!path.startsWith(staticDir + sep) || !existsSync(path) || statSync(path).isDirectory()) {
      return fail(res, 404, 'not found')
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream' })
    createReadStream(path).pipe(res)
  }

  function authorised(req: IncomingMessage, url: URL): boolean {
    if (!token) return true
    const cookie = /(?:^|;\s*)phonoscope_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1]
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    return [url.searchParams.get('token'), cookie, bearer].some(
      (given) => given !== null && given !== undefined && same(given, token),
    )
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== WS_PATH || !authorised(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    sockets.handleUpgrade(req, socket, head, (ws) => connect(ws))
  })

  function connect(ws: WebSocket): void {
    const send = (message: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message))
    }
    const unsubscribe = EVENTS.map((event) => service.on(event, (data) => send({ event, data } as ServerMessage)))
    ws.on('close', () => unsubscribe.forEach((off) => off()))
    ws.on('error', () => ws.terminate())
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return receiveAudio(raw as Buffer)
      let message: ClientMessage
      try {
        message = JSON.parse(String(raw)) as ClientMessage
      } catch {
        return send({ id: null, error: { message: 'malformed message: not JSON' } })
      }
      if (
        typeof message !== 'object' ||
        message === null ||
        !Number.isInteger(message.id) ||
        typeof message.command !== 'string'
      ) {
        return send({ id: null, error: { message: 'malformed message: want {id, command, params}' } })
      }
      service
        .call(message.command as CommandName, (message.params ?? {}) as never)
        .then((result) => send({ id: message.id, result }))
        .catch((error: unknown) => send({ id: message.id, error: { message: errorText(error) } }))
    })

    function receiveAudio(frame: Buffer): void {
      try {
        if (frame.length <= AUDIO_FRAME_ID_BYTES || (frame.length - AUDIO_FRAME_ID_BYTES) % 4 !== 0) {
          throw new Error('malformed audio frame: want a 20-byte session id and float32 samples')
        }
        const session = frame.toString('latin1', 0, AUDIO_FRAME_ID_BYTES)
        const bytes = new Uint8Array(frame.subarray(AUDIO_FRAME_ID_BYTES)) // aligned copy
        service.feedBrowserAudio(session, new Float32Array(bytes.buffer))
      } catch (error) {
        send({ id: null, error: { message: errorText(error) } })
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port, options.host, resolve)
  })
  const address = http.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `http://${host}:${port}/`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate()
        sockets.close()
        http.close(() => resolve())
      }),
  }
}

function fail(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.end()
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(`${message}\n`)
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
