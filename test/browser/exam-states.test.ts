import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { appUnderTest, chromiumAvailable, openWithSample, screenshot } from '../helpers/browser'

const WIDTHS = [1024, 1440, 1920]
const status = (page: Page, site: string) => page.getAttribute(`[data-testid=site-${site}]`, 'data-status')
const stateText = (page: Page, panel: string) => page.textContent(`[data-testid=${panel}] [data-testid=verdict-state]`)
const width = (page: Page, testId: string) =>
  page.$eval(`[data-testid=${testId}]`, (e) => Math.round(e.getBoundingClientRect().width))
/** pixels of a canvas that are not black: 0 for a spectrogram with nothing on it */
const lit = (page: Page, testId: string) =>
  page.$eval(`[data-testid=${testId}]`, (element) => {
    const canvas = element as HTMLCanvasElement
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height)
    let n = 0
    for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 0) n++
    return n
  })
/** the most opaque pixel of the attention overlay, 0..255 */
const strongestAttention = (page: Page, testId: string) =>
  page.$eval(`[data-testid=${testId}]`, (element) => {
    const canvas = element as HTMLCanvasElement
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height)
    let max = 0
    for (let i = 3; i < data.length; i += 4) max = Math.max(max, data[i]!)
    return max
  })

describe.skipIf(!chromiumAvailable())('the exam as a clinician reads it: states, layout, playback', () => {
  const app = appUnderTest(['--hop', '2'], { width: 1024, height: 768 })

  it('says what each site is, never shows another site’s sound, gives the spectrogram the width, and plays on click', async () => {
    const { page } = app
    const errors = await openWithSample(page, app.server.url, 4)
    await page.click('[data-testid=start-session]')

    // the sample is a replayed file: its flat peaks are no reason to tell anyone to lower a gain
    let clippingBanner = false
    let shot = false
    while ((await status(page, 'AV')) !== 'done') {
      clippingBanner ||= await page.isVisible('[data-testid=clipping]')
      if (!shot && (await page.getAttribute('[data-testid=verdict-site]', 'data-state')) === 'provisional') {
        // the overlay at its default opacity: where the model looked is drawn nearly opaque, not washed out
        expect(await strongestAttention(page, 'attention-overlay')).toBeGreaterThanOrEqual(0.85 * 255)
        for (const w of WIDTHS) {
          await page.setViewportSize({ width: w, height: w === 1024 ? 768 : w === 1440 ? 900 : 1080 })
          // the spectrogram is the main thing on screen: at least half the window's width at every width
          expect(await width(page, 'live-spectrogram'), `live at ${w} px`).toBeGreaterThanOrEqual(w / 2)
          await page.evaluate(() => scrollTo(0, 0))
          await screenshot(page, `live-${w}`)
        }
        await page.setViewportSize({ width: 1024, height: 768 })
        shot = true
      }
      await page.waitForTimeout(200)
    }
    expect(shot).toBe(true)
    expect(clippingBanner).toBe(false)
    // once the site stops, nothing comes in: no level, no clipping
    await expect.poll(() => page.textContent('.meter .value')).toBe('—')
    expect(await page.isVisible('[data-testid=replay-clipping]')).toBe(false)

    // toggling the overlay leaves the spectrogram's width alone
    const before = await width(page, 'live-spectrogram')
    await page.click('[data-testid=attention-toggle]')
    expect(await width(page, 'live-spectrogram')).toBe(before)
    await page.click('[data-testid=attention-toggle]')

    // a site not recorded yet: an empty spectrogram and "Not recorded", never AV's picture
    expect(await lit(page, 'live-spectrogram')).toBeGreaterThan(0)
    await page.click('[data-testid=site-PV]')
    await expect.poll(() => lit(page, 'live-spectrogram')).toBe(0)
    expect(await stateText(page, 'verdict-site')).toBe('Not recorded')
    await page.click('[data-testid=site-skip]')
    await expect.poll(() => stateText(page, 'verdict-site')).toBe('Skipped')
    // back to AV: its own recording comes back
    await page.click('[data-testid=site-AV]')
    await expect.poll(() => lit(page, 'live-spectrogram')).toBeGreaterThan(0)
    for (const site of ['TV', 'MV']) {
      await page.click(`[data-testid=site-${site}]`)
      await page.click('[data-testid=site-skip]')
      await expect.poll(() => status(page, site)).toBe('skipped')
    }
    // every site done or skipped: one way to finish, not two
    await expect.poll(() => page.textContent('[data-testid=site-primary]')).toContain('Finish examination')
    expect(await page.locator('button', { hasText: 'Finish examination' }).count()).toBe(1)
    await page.click('[data-testid=site-primary]')

    // review: a skipped site says so; clicking the spectrogram plays from there
    await page.click('[data-testid=review-last]')
    await expect.poll(() => page.isVisible('[data-testid=review-spectrogram]')).toBe(true)
    await page.click('[data-testid=site-PV]')
    await expect.poll(() => stateText(page, 'verdict-site')).toBe('Skipped')
    await page.click('[data-testid=site-AV]')
    await expect.poll(() => page.isVisible('[data-testid=review-spectrogram]')).toBe(true)
    await expect.poll(() => page.isEnabled('[data-testid=play]')).toBe(true) // the audio is loaded
    await page.click('[data-testid=review-spectrogram]', { position: { x: 100, y: 50 } })
    await expect.poll(() => page.textContent('[data-testid=play]')).toContain('Pause')
    const position = () => page.textContent('[data-testid=position]')
    const first = await position()
    await expect.poll(position, { timeout: 5000 }).not.toBe(first)
    await page.click('[data-testid=play]')
    expect(await strongestAttention(page, 'review-attention')).toBeGreaterThanOrEqual(0.85 * 255)
    for (const w of WIDTHS) {
      await page.setViewportSize({ width: w, height: w === 1024 ? 768 : w === 1440 ? 900 : 1080 })
      expect(await width(page, 'review-spectrogram'), `review at ${w} px`).toBeGreaterThanOrEqual(w / 2)
      await page.evaluate(() => scrollTo(0, 0))
      await screenshot(page, `review-${w}`)
    }
    expect(errors).toEqual([])
  })
})
