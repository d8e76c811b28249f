import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import {
  appUnderTest,
  canvasSummary,
  chromiumAvailable,
  openWithSample,
  screenshot,
  shownProbabilities,
} from '../helpers/browser'

const status = (page: Page, site: string) => page.getAttribute(`[data-testid=site-${site}]`, 'data-status')

describe.skipIf(!chromiumAvailable())('guided four-site exam, then review, in Chromium', () => {
  const app = appUnderTest(['--hop', '2'], { width: 1440, height: 1100 })

  it('records, skips and redoes sites, finishes, then reviews with playback, cursor and window verdicts', async () => {
    const { page } = app
    const errors = await openWithSample(page, app.server.url, 4)
    await page.fill('[data-testid=patient]', 'Exam test')
    await page.click('[data-testid=start-session]') // starts the first site, AV

    const waitDone = (site: string) => expect.poll(() => status(page, site), { timeout: 30_000 }).toBe('done')
    await expect.poll(() => status(page, 'AV')).toBe('recording')
    await waitDone('AV')
    // the finished site keeps its final verdict on screen; the main action moves on to the next site
    await expect.poll(() => page.getAttribute('[data-testid=verdict-site]', 'data-state')).toBe('final')
    await expect.poll(() => page.textContent('[data-testid=site-primary]')).toContain('Record PV')

    await page.click('[data-testid=site-PV]')
    await page.click('[data-testid=site-skip]')
    await expect.poll(() => status(page, 'PV')).toBe('skipped')

    await page.keyboard.press(' ') // Space: the main action, recording the next site (TV)
    await waitDone('TV')
    await page.click('[data-testid=site-primary]') // MV
    await waitDone('MV')
    // redo the first site
    await page.click('[data-testid=site-AV]')
    await page.click('[data-testid=site-redo]')
    await expect.poll(() => status(page, 'AV')).toBe('recording')
    await waitDone('AV')
    await expect(page.isVisible('[data-testid=patient-verdict]')).resolves.toBe(true)
    // every site done or skipped: the main action finishes (the only finish button left)
    await page.click('[data-testid=site-primary]')
    await expect.poll(() => page.isVisible('[data-testid=review-last]')).toBe(true)

    // review the examination just finished; each site's recording is fetched once (waveform and playback share it)
    const wavFetches: string[] = []
    page.on('request', (request) => {
      if (/\/api\/artefact\?.*kind=wav/.test(request.url())) wavFetches.push(request.url())
    })
    await page.click('[data-testid=review-last]')
    await expect.poll(() => page.textContent('.head h2')).toContain('Exam test')
    expect(await page.textContent('[data-testid=site-PV]')).toContain('skipped')
    await expect.poll(async () => (await canvasSummary(page, 'review-spectrogram')).painted).toBeGreaterThan(0)
    const overlayAll = await canvasSummary(page, 'review-attention')
    expect(overlayAll.painted).toBeGreaterThan(0)
    await expect.poll(() => page.isEnabled('[data-testid=play]')).toBe(true)
    expect(wavFetches).toHaveLength(1)

    // playback moves the cursor along the spectrogram
    const cursor = async () =>
      Number.parseFloat((await page.getAttribute('[data-testid=review-cursor]', 'style'))!.split('left:')[1]!)
    expect(await cursor()).toBe(0)
    await page.click('[data-testid=play]')
    await expect.poll(cursor, { timeout: 10_000 }).toBeGreaterThan(3)
    const moving = await cursor()
    await page.waitForTimeout(1000)
    expect(await cursor()).toBeGreaterThan(moving)
    await page.click('[data-testid=band-bell]') // band change keeps playing
    await page.waitForTimeout(500)
    expect(await cursor()).toBeGreaterThan(moving)
    await page.click('[data-testid=play]') // pause
    await screenshot(page, 'review')

    // a window's verdict opens: its own probabilities, its attention, playback from its start
    await page.click('[data-testid=window-2]')
    await expect.poll(() => page.textContent('[data-testid=verdict-window] h2')).toMatch(/Window 0:00–0:0\d/)
    const windowProbabilities = await shownProbabilities(page, 'verdict-window')
    expect(windowProbabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0)
    await expect
      .poll(async () => (await canvasSummary(page, 'review-attention')).checksum)
      .not.toBe(overlayAll.checksum)
    expect(errors).toEqual([])
  })
})
