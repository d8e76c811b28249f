import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { accessibilityViolations, appUnderTest, chromiumAvailable } from '../helpers/browser'

/** The page in both themes: axe-core finds no WCAG 2.2 AA violation in either (each theme audited as it shows). */
async function auditBothThemes(page: Page, view: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const theme = await page.evaluate(() => document.documentElement.dataset.theme)
    expect(await accessibilityViolations(page), `${view}, ${theme} theme`).toEqual([])
    await page.click('[data-testid=theme-toggle]')
  }
}

describe.skipIf(!chromiumAvailable())('WCAG 2.2 AA in every view and both themes (axe-core)', () => {
  const app = appUnderTest(['--hop', '2'], { width: 1440, height: 900 })

  it('the set-up, a site recording with provisional verdicts, a finished site, the review list and an examination', async () => {
    const { page } = app
    await page.goto(app.server.url)
    await page.waitForSelector('[data-testid=device-picker] option[value$=".flac"]', { state: 'attached' })
    await auditBothThemes(page, 'live set-up')

    const sample = await page.$eval('[data-testid=device-picker] option[value$=".flac"]', (o) =>
      o.getAttribute('value'),
    )
    await page.selectOption('[data-testid=device-picker]', sample!)
    await page.selectOption('[data-testid=replay-speed]', '2')
    await page.click('[data-testid=start-session]')
    const state = () => page.getAttribute('[data-testid=verdict-site]', 'data-state')
    await expect.poll(state, { timeout: 30_000 }).toBe('provisional')
    await auditBothThemes(page, 'live, provisional verdict')
    await expect.poll(state, { timeout: 30_000 }).toBe('final')
    await auditBothThemes(page, 'live, final verdict')
    await page.click('[data-testid=site-PV]') // a site not recorded yet
    await auditBothThemes(page, 'live, a site to do')

    await page.click('[data-testid=finish-session]')
    await auditBothThemes(page, 'live, finishing with sites to do')
    await page.click('[data-testid=finish-confirm]')
    await page.click('[data-testid=nav-review]')
    await auditBothThemes(page, 'review list')
    await page.click('[data-testid=nav-live]')
    await page.click('[data-testid=review-last]')
    await expect.poll(() => page.isVisible('[data-testid=review-spectrogram]')).toBe(true)
    await auditBothThemes(page, 'review of an examination')
    await page.click('[data-testid=window-1]')
    await auditBothThemes(page, 'review of a window')
  })
})
