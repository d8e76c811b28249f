import { describe, expect, it } from 'vitest'
import { appUnderTest, chromiumAvailable, startServer } from '../helpers/browser'

describe.skipIf(!chromiumAvailable())('the UI when the server goes away mid-session', () => {
  const app = appUnderTest([], { width: 1280, height: 900 })

  it('says the connection is lost, and recovers the session (interrupted, audio kept) when the server is back', async () => {
    const { page } = app
    await page.goto(`${app.server.url}?demo`)
    await expect.poll(() => page.getAttribute('[data-testid=site-AV]', 'data-status')).toBe('recording')
    await page.waitForTimeout(3000) // some sound on disk

    await app.server.stop('SIGKILL') // a crash, not a clean stop
    const banner = page.locator('[data-testid=connection]')
    await expect.poll(() => banner.getAttribute('data-state')).toBe('lost')
    expect(await banner.textContent()).toMatch(/lost/i)
    // the server is what went down: the banner must not promise that it records on
    expect(await banner.textContent()).not.toMatch(/recording continues/i)

    app.server = await startServer(app.sessions, app.server.port)
    await expect.poll(() => banner.count(), { timeout: 15_000 }).toBe(0)
    // the server repaired the cut-off session: the UI shows it as interrupted and offers to review it
    await expect.poll(() => page.textContent('.setup'), { timeout: 10_000 }).toMatch(/interrupted/)
    await page.click('[data-testid=review-last]')
    await expect.poll(() => page.getAttribute('[data-testid=site-AV]', 'data-status')).toBe('interrupted')
    await expect.poll(() => page.isVisible('[data-testid=review-spectrogram]')).toBe(true)
  })
})
