import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { isAppUrl, mayGrantPermission } from '../../src/main/guards'

const page = pathToFileURL('/opt/Phonoscope/resources/app/out/renderer/index.html').href
const built = { rendererFileUrl: page }
const dev = { devServerUrl: 'http://localhost:5173/' }

describe('isAppUrl: navigation stays on the app', () => {
  it('allows the bundled page, with a query or a fragment', () => {
    expect(isAppUrl(page, built)).toBe(true)
    expect(isAppUrl(`${page}?demo=1`, built)).toBe(true)
    expect(isAppUrl(`${page}#/sessions`, built)).toBe(true)
  })

  it('refuses other local files, look-alike paths and path tricks', () => {
    expect(isAppUrl(`${page}.evil.html`, built)).toBe(false)
    expect(isAppUrl(`${page}/../../../../../../etc/passwd`, built)).toBe(false)
    expect(isAppUrl(pathToFileURL('/opt/Phonoscope/resources/app/out/renderer/other.html').href, built)).toBe(false)
    expect(isAppUrl(pathToFileURL('/home/user/sessions/report.html').href, built)).toBe(false)
    expect(isAppUrl(page.replace('file:///', 'file://attacker.example/'), built)).toBe(false)
  })

  it('refuses the web and other schemes, and what is not a URL', () => {
    for (const url of ['https://example.com/', 'http://localhost:5173/', 'javascript:alert(1)', 'data:text/html,x']) {
      expect(isAppUrl(url, built), url).toBe(false)
    }
    expect(isAppUrl('not a url', built)).toBe(false)
    expect(isAppUrl('', built)).toBe(false)
  })

  it('under the dev server, allows its origin only', () => {
    expect(isAppUrl('http://localhost:5173/', dev)).toBe(true)
    expect(isAppUrl('http://localhost:5173/src/main.ts?t=1', dev)).toBe(true)
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false)
    expect(isAppUrl('https://localhost:5173/', dev)).toBe(false)
    expect(isAppUrl('http://localhost:5173.attacker.example/', dev)).toBe(false)
    expect(isAppUrl(page, dev)).toBe(false)
  })
})

describe('mayGrantPermission', () => {
  it('refuses every permission Chromium may ask or check for', () => {
    const permissions = ['media', 'clipboard-read', 'clipboard-sanitized-write', 'notifications', 'geolocation']
    for (const permission of [...permissions, 'openExternal', 'fullscreen', 'hid', 'serial', 'usb', 'unknown']) {
      expect(mayGrantPermission(permission), permission).toBe(false)
    }
  })
})
