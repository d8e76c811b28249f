import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BackEndApi } from '../../src/core/backend/back-end'
import { serve, type RunningServer } from '../../src/server/server'
import { scratch } from '../helpers/paths'
import { client, pageSecret, RENDERER_DIR, request, socketUrl, testBackEnd, type Reply } from '../helpers/server'

/** The policy written in the renderer's page, where it is written once. */
const metaPolicy = (): string =>
  /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(
    readFileSync(join(RENDERER_DIR, 'index.html'), 'utf8'),
  )![1]!

/** A session with one recorded site, made through the service as the UI makes it. */
async function recordedSession(service: BackEndApi): Promise<string> {
  const { id } = await service.call('session.start', { source: { kind: 'file', speed: 0 } })
  const done = new Promise<void>((resolve) =>
    service.on('session', (info) => info.id === id && info.sites[0]!.status === 'done' && resolve()),
  )
  await service.call('site.start', { session: id, site: 'AV' })
  await done
  return id
}

/** Why a socket upgrade was refused (the HTTP status in ws's error), or 'open'. */
async function upgrade(url: string, headers: Record<string, string>): Promise<string> {
  try {
    const c = await client(url, headers)
    c.ws.close()
    return 'open'
  } catch (error) {
    return /Unexpected server response: (\d+)/.exec(String(error))?.[1] ?? String(error)
  }
}

describe('phonoscope serve refuses every page but its own', () => {
  let service: BackEndApi
  let server: RunningServer
  let wide: RunningServer
  let secret: string
  let host: string
  let audio: string
  beforeAll(async () => {
    service = await testBackEnd()
    server = await serve({ api: service, host: '127.0.0.1', port: 0, staticDir: RENDERER_DIR })
    wide = await serve({ api: service, host: '0.0.0.0', port: 0, staticDir: RENDERER_DIR })
    secret = await pageSecret(server.url)
    host = new URL(server.url).host
    audio = `${server.url}api/artefact?kind=wav&session=${await recordedSession(service)}&site=AV`
  })
  afterAll(async () => {
    await server?.close()
    await wide?.close()
  })
  const bearer = () => ({ authorization: `Bearer ${secret}` })
  const port = () => new URL(server.url).port

  it('answers only to its own address in Host: the UI, its files, the API and the audio (no DNS rebinding)', async () => {
    const urls = [server.url, `${server.url}index.html`, `${server.url}src/main.ts`, audio, socketUrl(server.url)]
    const foreign = ['evil.com', `evil.com:${port()}`, '127.0.0.1', `127.0.0.1:${Number(port()) + 1}`, '127.0.0.2']
    for (const url of urls.map((u) => u.replace(/^ws/, 'http'))) {
      expect((await request(url, { host: undefined, ...bearer() })).status).toBe(400) // Node refuses no Host itself
      for (const name of foreign) {
        const reply = await request(url, { host: name, ...bearer() })
        expect([url, name, reply.status]).toEqual([url, name, 403])
        expect(reply.body).not.toContain(secret)
      }
    }
    for (const name of [host, `localhost:${port()}`, `LOCALHOST:${port()}`, `[::1]:${port()}`]) {
      expect([name, (await request(server.url, { host: name })).status]).toEqual([name, 200])
    }
    for (const name of foreign) {
      const origin = `http://${name}`
      expect(await upgrade(socketUrl(server.url, secret), { Host: name, Origin: origin })).toBe('403')
    }
  })

  it("opens a socket only for the page's own origin, and only with the secret", async () => {
    const url = socketUrl(server.url, secret)
    const own = `http://${host}`
    expect(await upgrade(url, {})).toBe('403') // no Origin: not a page of ours
    const foreign = [
      'http://evil.com',
      `http://localhost:${Number(port()) + 1}`,
      `http://127.0.0.1:${Number(port()) + 1}`,
    ]
    for (const origin of [...foreign, 'null', `https://${host}`, `http://localhost:${port()}`]) {
      expect([origin, await upgrade(url, { Origin: origin })]).toEqual([origin, '403'])
    }
    expect(await upgrade(socketUrl(server.url), { Origin: own })).toBe('401')
    expect(await upgrade(socketUrl(server.url, 'guessed'), { Origin: own })).toBe('401')
    expect(await upgrade(socketUrl(server.url), { Origin: own, Cookie: `phonoscope_token=${secret}` })).toBe('401')
    expect(await upgrade(socketUrl(server.url), { Origin: own, Authorization: `Bearer ${secret}` })).toBe('open')
    // localhost names the same server, and its page's origin then is http://localhost:port
    const local = `http://localhost:${port()}`
    expect(await upgrade(socketUrl(local, secret), { Origin: local })).toBe('open')
    const c = await client(url, { Origin: own })
    expect(await c.call('sessions.list', {})).toHaveProperty('result')
    c.ws.close()
  })

  it('keeps a secret per run in the page it serves, and gives audio only for it', async () => {
    expect(secret).toMatch(/^[\w-]{24}$/)
    expect(await pageSecret(wide.url.replace('0.0.0.0', '127.0.0.1') + `?token=${wide.token}`)).not.toBe(secret)
    expect(server.token).toBeUndefined() // nothing to print on loopback: ?demo opens as it is
    expect((await request(audio)).status).toBe(401)
    expect((await request(`${audio}&token=guessed`)).status).toBe(401)
    expect((await request(audio, { cookie: `phonoscope_token=${secret}` })).status).toBe(401)
    expect((await request(`${audio}&token=${secret}`)).status).toBe(200)
    const reply = await request(audio, bearer())
    expect([reply.status, reply.headers['content-type']]).toEqual([200, 'audio/wav'])
  })

  it('refuses a foreign Origin on any request and every method but GET', async () => {
    for (const url of [server.url, audio]) {
      expect((await request(url, { origin: 'http://evil.com', ...bearer() })).status).toBe(403)
      expect((await request(url, { origin: `http://${host}`, ...bearer() })).status).toBe(200)
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        expect([method, (await request(url, { origin: 'http://evil.com', ...bearer() }, method)).status]).toEqual([
          method,
          403,
        ])
        expect([method, (await request(url, { origin: `http://${host}`, ...bearer() }, method)).status]).toEqual([
          method,
          405,
        ])
      }
    }
  })

  it("sends the security headers on every kind of response, with the renderer's own policy", async () => {
    const meta = metaPolicy()
    const replies: [string, Reply][] = [
      ['page', await request(server.url)],
      ['file', await request(`${server.url}src/main.ts`)],
      ['audio', await request(audio, bearer())],
      ['no secret', await request(audio)],
      ['foreign host', await request(server.url, { host: 'evil.com' })],
      ['not found', await request(`${server.url}nothing-here`)],
      ['no session', await request(audio.replace(/session=[^&]+/, 'session=20990101-000000-zzzz'), bearer())],
      ['method', await request(server.url, {}, 'POST')],
    ]
    expect(replies.map(([kind, reply]) => [kind, reply.status])).toEqual([
      ['page', 200],
      ['file', 200],
      ['audio', 200],
      ['no secret', 401],
      ['foreign host', 403],
      ['not found', 404],
      ['no session', 404],
      ['method', 405],
    ])
    for (const [kind, { headers }] of replies) {
      expect([kind, headers]).toMatchObject([
        kind,
        {
          'content-security-policy': `${meta}; frame-ancestors 'none'`,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
          'cross-origin-resource-policy': 'same-origin',
        },
      ])
    }
  })

  it("limits the renderer's policy to its own server: no other socket, no base, no forms", () => {
    const directives = metaPolicy().split(/;\s*/)
    expect(directives).toContain("connect-src 'self'")
    expect(directives).toContain("base-uri 'none'")
    expect(directives).toContain("form-action 'none'")
  })

  it("beyond loopback, answers to the machine's own names only, token or not", async () => {
    const widePort = new URL(wide.url).port
    const page = `${wide.url.replace('0.0.0.0', '127.0.0.1')}?token=${wide.token}`
    expect((await request(page, { host: `evil.com:${widePort}` })).status).toBe(403)
    expect((await request(page, { host: `${hostname()}:${widePort}` })).status).toBe(200)
    expect((await request(page)).status).toBe(200)
  })

  it('refuses to serve a UI without its policy', async () => {
    const ui = scratch('phonoscope-ui-')
    ui.put('index.html', '<!doctype html><html><head></head><body></body></html>')
    await expect(serve({ api: service, host: '127.0.0.1', port: 0, staticDir: ui.dir })).rejects.toThrow(
      /Content-Security-Policy/,
    )
  })
})
