import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  EVENT_NAMES,
  validateImportManifest,
  type ArtefactRequest,
  type CommandName,
  type ImportFile,
} from '../core/api/app'
import {
  ARTEFACT_PATH,
  AUDIO_FRAME_ID_BYTES,
  IMPORT_PATH,
  MAX_MESSAGE_BYTES,
  WS_PATH,
  type ClientMessage,
  type ServerMessage,
} from '../core/api/wire'
import { IMPORT_LIMITS, type BackEndApi } from '../core/backend/back-end'
import { InputError, kindOf, toWire, type ErrorKind } from '../core/errors'
import { allowedHosts, hostPart, pagePolicy, securityHeaders, withSecret } from './security'

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
const TOKEN_COOKIE = 'phonoscope_token'
const TOKEN_IN_COOKIE = new RegExp(`(?:^|;\\s*)${TOKEN_COOKIE}=([^;]+)`)
/** How a failed API request's kind reads in HTTP: a user's mistake is 4xx, anything else 500. */
const HTTP_STATUS: Record<ErrorKind, number> = {
  input: 400,
  not_found: 404,
  conflict: 409,
  storage: 507,
  internal: 500,
}

type Refusal = [status: number, reason: string]

/** An upload's body longer than the files its query names: refused (413) as soon as it is known, never read on. */
class BodyTooLarge extends InputError {
  constructor() {
    super('import', 'the body is larger than the files it names')
  }
}

export interface ServeOptions {
  api: BackEndApi
  host: string
  port: number
  /** the built renderer (out/renderer) */
  staticDir: string
}

export interface RunningServer {
  url: string
  /** beyond loopback, what a user adds to the address (?token=) to open the page: the run's secret */
  token: string | undefined
  close(): Promise<void>
}

/**
 * `phonoscope serve`: the built renderer plus the API contract over WebSocket (GET for artefacts, POST for uploads), for a
 * browser instead of Electron. Every request must name this server in its Host header (no DNS rebinding) and carry no
 * foreign Origin; a WebSocket must come from the page's own origin. The API (socket, audio) requires the run's secret,
 * which only the served page carries, so no other page can drive it, on loopback too. Beyond loopback the page itself
 * requires it as well: the printed token, given once as ?token= (then kept in an HttpOnly cookie for the page's files)
 * or as a Bearer header. Malformed, oversized or unauthorised messages are refused with an error; the server keeps
 * serving.
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { api, staticDir } = options
  const secret = randomBytes(18).toString('base64url')
  const pageNeedsSecret = !LOOPBACK.has(options.host)
  // read once: the policy header must be known before the first request, and the page carries this run's secret
  const page = readFileSync(join(staticDir, 'index.html'), 'utf8')
  const headers = securityHeaders(pagePolicy(page))
  const pageWithSecret = withSecret(page, secret)
  let hosts = new Set<string>() // known once listening (port 0 picks one)

  const http = createServer((req, res) => {
    handleHttp(req, res).catch((error: unknown) => failWith(res, error))
  })

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const artefact = url.pathname === ARTEFACT_PATH
    const upload = url.pathname === IMPORT_PATH
    // a refused upload's body is left unread: that connection cannot carry another request
    if (upload) res.setHeader('Connection', 'close')
    const refusal = refuse(req, url, { api: artefact || upload, socket: false, upload })
    if (refusal) return fail(res, ...refusal)
    if (pageNeedsSecret && url.searchParams.get('token') === secret) {
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/`)
    }
    if (artefact) return sendArtefact(res, url.searchParams)
    if (upload) return receiveUpload(req, res, url.searchParams)
    return sendStatic(res, url.pathname)
  }

  /**
   * Why a request or socket upgrade is refused, if it is. The cookie opens only the page's files, never the API:
   * browsers attach cookies to requests from other pages too (other ports of the same host are the same site).
   */
  function refuse(
    req: IncomingMessage,
    url: URL,
    { api, socket, upload = false }: { api: boolean; socket: boolean; upload?: boolean },
  ): Refusal | undefined {
    const host = (req.headers.host ?? '').toLowerCase()
    if (!hosts.has(host)) return [403, 'this server answers only to its own address (Host header)']
    const origin = req.headers.origin?.toLowerCase()
    // a socket must name its page's origin; other requests may name none (a browser sends none on same-origin GETs)
    if (origin === undefined ? socket : origin !== `http://${host}`) {
      return [403, 'only the Phonoscope page itself may use this server (Origin header)']
    }
    if (upload ? req.method !== 'POST' : req.method !== 'GET') {
      return [405, upload ? 'only POST here' : 'only GET here; commands go over the WebSocket']
    }
    if ((api || pageNeedsSecret) && !presentsSecret(req, url, { cookie: !api })) {
      return [401, 'a valid token is required']
    }
    return undefined
  }

  function presentsSecret(req: IncomingMessage, url: URL, accept: { cookie: boolean }): boolean {
    const cookie = accept.cookie ? TOKEN_IN_COOKIE.exec(req.headers.cookie ?? '')?.[1] : undefined
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    return [url.searchParams.get('token'), cookie, bearer].some(
      (given) => given !== null && given !== undefined && same(given, secret),
    )
  }

  /** The one route for binary artefacts: the query is the artefact request (wire.ts artefactQuery), checked by the api. */
  async function sendArtefact(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const request: Record<string, unknown> = {}
    for (const [key, value] of query) {
      if (key === 'token') continue
      if (key in request) throw new InputError(`artefact ${key}`, 'given twice')
      request[key] = value === 'true' ? true : value === 'false' ? false : value
    }
    const artefact = await api.artefact(request as unknown as ArtefactRequest)
    res.writeHead(200, {
      'Content-Type': artefact.mime,
      'Content-Length': artefact.bytes.byteLength,
      'Content-Disposition': `attachment; filename="${artefact.filename}"`,
    })
    res.end(artefact.bytes)
  }

  /**
   * The one route for uploads: the query names each file and its size (wire.ts importQuery), checked against the
   * limits before a byte of the body is read; the body, read into exactly those sizes, is refused the moment it is
   * longer.
   */
  async function receiveUpload(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const names = query.getAll('name')
    const sizes = query.getAll('size')
    if (names.length !== sizes.length) throw new InputError('import', 'want a name and a size for each file')
    const manifest = names.map((name, i) => ({ name, size: /^\d{1,12}$/.test(sizes[i]!) ? Number(sizes[i]) : NaN }))
    validateImportManifest(manifest, IMPORT_LIMITS)
    const total = manifest.reduce((sum, file) => sum + file.size, 0)
    if (Number(req.headers['content-length'] ?? 0) > total) throw new BodyTooLarge()
    const files = manifest.map(({ name, size }): ImportFile => ({ name, bytes: new Uint8Array(size) }))
    let file = 0
    let filled = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length;) {
        while (file < files.length && filled === files[file]!.bytes.length) [file, filled] = [file + 1, 0]
        if (file === files.length) throw new BodyTooLarge()
        const piece = chunk.subarray(at, at + files[file]!.bytes.length - filled)
        files[file]!.bytes.set(piece, filled)
        filled += piece.length
        at += piece.length
      }
    }
    const received = files.slice(0, file).reduce((sum, f) => sum + f.bytes.length, filled)
    if (received < total) throw new InputError('import', `the body is ${received} bytes, the files ${total}`)
    const summary = JSON.stringify(await api.importFiles(files))
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(summary)
  }

  function sendStatic(res: ServerResponse, pathname: string): void {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '')
    const path = join(staticDir, relative === '' ? 'index.html' : relative)
    if (!path.startsWith(staticDir + sep) || !existsSync(path) || statSync(path).isDirectory()) {
      return fail(res, 404, 'not found')
    }
    if (path === join(staticDir, 'index.html')) {
      res.writeHead(200, { 'Content-Type': MIME['.html'] })
      return void res.end(pageWithSecret)
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream' })
    createReadStream(path).pipe(res)
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const refusal: Refusal | undefined =
      url.pathname === WS_PATH ? refuse(req, url, { api: true, socket: true }) : [404, 'not found']
    if (refusal) {
      const [status, reason] = refusal
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n${reason}\n`)
      return
    }
    sockets.handleUpgrade(req, socket, head, (ws) => connect(ws))
  })

  function connect(ws: WebSocket): void {
    const send = (message: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message))
    }
    const unsubscribe = EVENT_NAMES.map((event) => api.on(event, (data) => send({ event, data } as ServerMessage)))
    ws.on('close', () => unsubscribe.forEach((off) => off()))
    ws.on('error', () => ws.terminate())
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return receiveAudio(raw as Buffer)
      let message: ClientMessage
      try {
        message = JSON.parse(String(raw)) as ClientMessage
      } catch {
        return send({ id: null, error: toWire(new InputError('message', 'malformed: not JSON')) })
      }
      if (
        typeof message !== 'object' ||
        message === null ||
        !Number.isInteger(message.id) ||
        typeof message.command !== 'string'
      ) {
        return send({ id: null, error: toWire(new InputError('message', 'malformed: want {id, command, params}')) })
      }
      api
        .call(message.command as CommandName, (message.params ?? {}) as never)
        .then((result) => send({ id: message.id, result }))
        .catch((error: unknown) => send({ id: message.id, error: toWire(error) }))
    })

    function receiveAudio(frame: Buffer): void {
      try {
        if (frame.length <= AUDIO_FRAME_ID_BYTES || (frame.length - AUDIO_FRAME_ID_BYTES) % 4 !== 0) {
          throw new InputError('audio frame', 'malformed: want a 20-byte session id and float32 samples')
        }
        const session = frame.toString('latin1', 0, AUDIO_FRAME_ID_BYTES)
        const bytes = new Uint8Array(frame.subarray(AUDIO_FRAME_ID_BYTES)) // aligned copy
        api.feedBrowserAudio(session, new Float32Array(bytes.buffer))
      } catch (error) {
        send({ id: null, error: toWire(error) })
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port, options.host, resolve)
  })
  const address = http.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  hosts = allowedHosts(options.host, port)
  return {
    url: `http://${hostPart(options.host)}:${port}/`,
    token: pageNeedsSecret ? secret : undefined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate()
        sockets.close()
        http.close(() => resolve())
      }),
  }
}

/** A failed API request: its status by kind, the error as it travels (WireError JSON), so the client rebuilds it. */
function failWith(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.end()
  const status = error instanceof BodyTooLarge ? 413 : HTTP_STATUS[kindOf(error)]
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(toWire(error)))
}

function fail(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.end()
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(`${message}\n`)
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
