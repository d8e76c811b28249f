import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_META, WS_PATH } from '../../src/core/api/wire'
import { appUnderTest, chromiumAvailable } from '../helpers/browser'

/** What a page gets from a WebSocket to `url`: whether it opened, and how many messages reached it. */
function probeSocket(page: Page, url: string): Promise<{ opened: boolean; messages: number }> {
  return page.evaluate(
    (target) =>
      new Promise<{ opened: boolean; messages: number }>((resolve) => {
        const result = { opened: false, messages: 0 }
        const ws = new WebSocket(target)
        ws.onopen = () => {
          result.opened = true
          ws.send(JSON.stringify({ id: 1, command: 'sessions.list', params: {} }))
        }
        ws.onmessage = () => result.messages++
        ws.onclose = () => resolve(result)
        setTimeout(() => (ws.close(), resolve(result)), 2000)
      }),
    url,
  )
}

// A page of another origin on loopback (a dev server, any local web page) and a DNS-rebinding page (evil.test
// resolving to 127.0.0.1) must not drive the app: no socket, no data, no framing.
describe.skipIf(!chromiumAvailable())('pages of other origins', () => {
  const app = appUnderTest([], undefined, ['--host-resolver-rules=MAP evil.test 127.0.0.1'])
  let foreign: Server
  let foreignPort: number
  beforeAll(async () => {
    foreign = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' })
      res.end(`<!doctype html><html><body><iframe src="${app.server.url}"></iframe></body></html>`)
    })
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve))
    foreignPort = (foreign.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => foreign?.close(() => resolve())))
  const target = () => `ws://127.0.0.1:${app.server.port}${WS_PATH}`

  it('a page served from another port gets no socket, no data and no frame of the app', async () => {
    for (const name of ['localhost', '127.0.0.1']) {
      const { page } = app
      await page.goto(`http://${name}:${foreignPort}/`)
      expect([name, await probeSocket(page, target())]).toEqual([name, { opened: false, messages: 0 }])
      expect(await probeSocket(page, `${target()}?token=guessed`)).toEqual({ opened: false, messages: 0 })
      // frame-ancestors 'none': the framed app never loads, so its page (and secret) never reaches the frame
      const framed = page.frames().find((frame) => frame !== page.mainFrame())!
      expect(await framed.$(`meta[name="${TOKEN_META}"]`)).toBeNull()
    }
  })

  it('a DNS-rebinding page (a foreign name for 127.0.0.1) gets neither the UI nor a socket', async () => {
    const { page } = app
    const response = await page.goto(`http://evil.test:${app.server.port}/?demo`)
    expect(response!.status()).toBe(403)
    expect(await page.$(`meta[name="${TOKEN_META}"]`)).toBeNull()
    const rebound = `ws://evil.test:${app.server.port}${WS_PATH}`
    expect(await probeSocket(page, rebound)).toEqual({ opened: false, messages: 0 })
  })

  it("the app's own page connects: its policy's connect-src 'self' admits its same-origin socket", async () => {
    const { page } = app
    const violations: string[] = []
    page.on('console', (message) => /Content Security Policy/.test(message.text()) && violations.push(message.text()))
    await page.goto(app.server.url)
    const secret = await page.$eval(`meta[name="${TOKEN_META}"]`, (meta) => (meta as HTMLMetaElement).content)
    const own = `ws://127.0.0.1:${app.server.port}${WS_PATH}?token=${secret}`
    const probe = await probeSocket(page, own)
    expect(probe.opened).toBe(true)
    expect(probe.messages).toBeGreaterThan(0)
    expect(violations).toEqual([])
  })
})
