import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { MAX_MESSAGE_BYTES, WS_PATH, type ServerMessage } from '../../src/core/api/wire'
import { appRoot } from '../../src/core/paths'
import { SessionService } from '../../src/core/sessions/service'
import { SessionStore } from '../../src/core/sessions/store'
import { serve, type RunningServer } from '../../src/server/server'
import { REPO_ROOT } from '../helpers/paths'
import { inProcessRuntime } from '../helpers/runtime'
import { tinyModel } from './model-fixture'

/** A WebSocket client that collects every message and can await the one it needs. */
async function client(url: string, headers: Record<string, string> = {}) {
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

describe('phonoscope serve', () => {
  let server: RunningServer
  let open: RunningServer
  let wsUrl: string
  beforeAll(async () => {
    const runtime = await inProcessRuntime(tinyModel())
    const service = new SessionService(new SessionStore(mkdtempSync(join(tmpdir(), 'phonoscope-serve-'))), runtime, {
      fileRoots: [join(appRoot(), 'resources')],
    })
    const staticDir = join(REPO_ROOT, 'test', 'fixtures', 'static')
    server = await serve({ service, host: '127.0.0.1', port: 0, staticDir })
    open = await serve({ service, host: '0.0.0.0', port: 0, staticDir, token: 'secret-token' })
    wsUrl = server.url.replace('http', 'ws') + WS_PATH.slice(1)
  })
  afterAll(async () => {
    await server?.close()
    await open?.close()
  })

  it('runs a whole session over the WebSocket: columns, verdicts, and the site verdict', async () => {
    const c = await client(wsUrl)
    const started = await c.call('session.start', { source: { kind: 'file', speed: 0 } })
    const session = (started as { result: { id: string } }).result.id
    const done = c.next((m) => 'event' in m && m.event === 'session' && m.data.sites[0]!.status === 'done')
    await c.call('site.start', { session, site: 'AV' })
    const final = (await done) as { data: { sites: { verdict?: string }[] } }
    expect(final.data.sites[0]!.verdict).toMatch(/^(normal|mild|moderate_severe)$/)
    expect(c.messages.some((m) => 'event' in m && m.event === 'columns')).toBe(true)
    expect(c.messages.some((m) => 'event' in m && m.event === 'verdict')).toBe(true)
    const audio = await fetch(`${server.url}api/sessions/${session}/sites/AV/audio.wav`)
    expect(audio.status).toBe(200)
    expect(audio.headers.get('content-type')).toBe('audio/wav')
    c.ws.close()
  })

  it('answers malformed and invalid messages with an error and keeps serving', async () => {
    const c = await client(wsUrl)
    c.ws.send('{not json')
    expect(await c.next((m) => 'error' in m && /not JSON/.test(m.error.message))).toBeTruthy()
    c.ws.send(JSON.stringify({ hello: 1 }))
    expect(await c.next((m) => 'error' in m && /want \{id, command, params\}/.test(m.error.message))).toBeTruthy()
    const unknown = await c.call('rm -rf', {})
    expect(unknown).toMatchObject({ error: { message: expect.stringMatching(/unknown/) } })
    const outside = await c.call('session.start', { source: { kind: 'file', path: '/etc/passwd' } })
    expect(outside).toMatchObject({ error: { message: expect.stringMatching(/outside the folders/) } })
    const traversal = await c.call('session.get', { session: '../../../etc/passwd' })
    expect(traversal).toMatchObject({ error: { message: expect.stringMatching(/not a session id/) } })
    c.ws.send(Buffer.alloc(30)) // binary audio for no session
    expect(await c.next((m) => 'error' in m && /session/.test(m.error.message))).toBeTruthy()
    expect(await c.call('sessions.list', {})).toHaveProperty('result')
    c.ws.close()
  })

  it('closes a socket that sends an oversized message (1009) and still serves others', async () => {
    const c = await client(wsUrl)
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)))
    c.ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1))
    expect(await closed).toBe(1009)
    const again = await client(wsUrl)
    expect(await again.call('sessions.list', {})).toHaveProperty('result')
    again.ws.close()
  })

  it('beyond loopback, refuses requests and sockets without the token', async () => {
    const base = open.url.replace('0.0.0.0', '127.0.0.1')
    expect((await fetch(base)).status).toBe(401)
    expect((await fetch(`${base}?token=wrong`)).status).toBe(401)
    expect((await fetch(`${base}?token=secret-token`)).status).toBe(200)
    const ws = base.replace('http', 'ws') + WS_PATH.slice(1)
    await expect(client(ws)).rejects.toThrow(/401/)
    await expect(client(ws, { Authorization: 'Bearer wrong' })).rejects.toThrow(/401/)
    const ok = await client(ws, { Authorization: 'Bearer secret-token' })
    expect(await ok.call('sessions.list', {})).toHaveProperty('result')
    ok.ws.close()
  })

  it('serves the UI and nothing outside it', async () => {
    expect(await (await fetch(server.url)).text()).toContain('<html')
    expect((await fetch(`${server.url}..%2F..%2Fpackage.json`)).status).toBe(404)
    expect((await fetch(`${server.url}api/sessions/..%2F..%2Fx/sites/AV/audio.wav`)).status).toBe(404)
  })
})
