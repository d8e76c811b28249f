import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_MESSAGE_BYTES } from '../../src/core/api/wire'
import { serve, type RunningServer } from '../../src/server/server'
import { client, pageSecret, RENDERER_DIR, socketUrl, testBackEnd } from '../helpers/server'

describe('phonoscope serve', () => {
  let server: RunningServer
  let open: RunningServer
  let secret: string
  let wsUrl: string
  let origin: { Origin: string }
  beforeAll(async () => {
    const api = await testBackEnd()
    server = await serve({ api, host: '127.0.0.1', port: 0, staticDir: RENDERER_DIR })
    open = await serve({ api, host: '0.0.0.0', port: 0, staticDir: RENDERER_DIR })
    secret = await pageSecret(server.url)
    wsUrl = socketUrl(server.url, secret)
    origin = { Origin: new URL(server.url).origin }
  })
  afterAll(async () => {
    await server?.close()
    await open?.close()
  })

  it('runs a whole session over the WebSocket: columns, verdicts, and the site verdict', async () => {
    const c = await client(wsUrl, origin)
    const started = await c.call('session.start', { source: { kind: 'file', speed: 0 } })
    const session = (started as { result: { id: string } }).result.id
    const done = c.next((m) => 'event' in m && m.event === 'session' && m.data.sites[0]!.status === 'done')
    await c.call('site.start', { session, site: 'AV' })
    const final = (await done) as { data: { sites: { verdict?: string }[] } }
    expect(final.data.sites[0]!.verdict).toMatch(/^(normal|mild|moderate_severe)$/)
    expect(c.messages.some((m) => 'event' in m && m.event === 'columns')).toBe(true)
    expect(c.messages.some((m) => 'event' in m && m.event === 'verdict')).toBe(true)
    const audio = await fetch(`${server.url}api/artefact?kind=wav&session=${session}&site=AV`, {
      headers: { Authorization: `Bearer ${secret}` },
    })
    expect(audio.status).toBe(200)
    expect(audio.headers.get('content-type')).toBe('audio/wav')
    c.ws.close()
  })

  it('answers malformed and invalid messages with an error and keeps serving', async () => {
    const c = await client(wsUrl, origin)
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
    const c = await client(wsUrl, origin)
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)))
    c.ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1))
    expect(await closed).toBe(1009)
    const again = await client(wsUrl, origin)
    expect(await again.call('sessions.list', {})).toHaveProperty('result')
    again.ws.close()
  })

  it('beyond loopback, refuses requests and sockets without the token', async () => {
    const base = open.url.replace('0.0.0.0', '127.0.0.1')
    const token = open.token!
    expect(token).toMatch(/^[\w-]{24}$/)
    expect((await fetch(base)).status).toBe(401)
    expect((await fetch(`${base}?token=wrong`)).status).toBe(401)
    expect((await fetch(`${base}?token=${token}`)).status).toBe(200)
    const ws = socketUrl(base)
    const own = { Origin: new URL(base).origin }
    await expect(client(ws, own)).rejects.toThrow(/401/)
    await expect(client(ws, { ...own, Authorization: 'Bearer wrong' })).rejects.toThrow(/401/)
    const ok = await client(ws, { ...own, Authorization: `Bearer ${token}` })
    expect(await ok.call('sessions.list', {})).toHaveProperty('result')
    ok.ws.close()
  })

  it('serves the UI and nothing outside it', async () => {
    expect(await (await fetch(server.url)).text()).toContain('<html')
    expect((await fetch(`${server.url}..%2F..%2Fpackage.json`)).status).toBe(404)
    const traversal = `${server.url}api/artefact?kind=wav&session=..%2F..%2Fx&site=AV`
    expect((await fetch(traversal, { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(400)
  })
})
