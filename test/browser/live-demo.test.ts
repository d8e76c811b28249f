import { describe, expect, it } from 'vitest'
import { CLASS_LABELS, type ClassName } from '../../src/core/api/classes'
import { appUnderTest, canvasSummary, chromiumAvailable, screenshot, shownProbabilities } from '../helpers/browser'
import { phonoscope } from '../helpers/cli'

const SAMPLE = 'resources/samples/49628_TV.flac'

describe.skipIf(!chromiumAvailable())('live demo in Chromium against phonoscope serve (shipped model)', () => {
  const app = appUnderTest(['--hop', '2'])

  it('streams the spectrogram, gives provisional then final verdicts with an attention overlay that toggles', async () => {
    const { page } = app
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    // the sample replayed as if from a stethoscope, twice as fast as real time
    await page.goto(`${app.server.url}?demo=2`)

    const states: string[] = []
    const site = page.locator('[data-testid=verdict-site]')
    const spectrogramShots: number[] = []
    let overlayWhileLive: { painted: number; checksum: number }[] = []
    let sums: number[] = []
    const deadline = Date.now() + 40_000
    while (Date.now() < deadline) {
      const state = (await site.getAttribute('data-state')) ?? ''
      if (states.at(-1) !== state) states.push(state)
      spectrogramShots.push((await canvasSummary(page, 'live-spectrogram')).checksum)
      if (state === 'provisional' || state === 'live') {
        overlayWhileLive.push(await canvasSummary(page, 'attention-overlay'))
        const shown = await shownProbabilities(page, 'verdict-site')
        sums.push(shown.reduce((a, b) => a + b, 0))
        // the README's picture: the last one taken while verdicts were still live (most of the spectrogram drawn)
        if (overlayWhileLive.length % 4 === 0) await screenshot(page, 'live-view')
      }
      if (state === 'final') break
      await page.waitForTimeout(400)
    }

    expect(states).toContain('provisional')
    expect(states.at(-1)).toBe('final')
    expect(states.indexOf('provisional')).toBeLessThan(states.indexOf('final'))
    expect(new Set(spectrogramShots).size).toBeGreaterThan(5) // the picture moves as sound arrives

    // the overlay is drawn while verdicts come in and changes with them
    overlayWhileLive = overlayWhileLive.filter((o) => o.painted > 0)
    expect(overlayWhileLive.length).toBeGreaterThan(2)
    expect(new Set(overlayWhileLive.map((o) => o.checksum)).size).toBeGreaterThan(1)
    // every shown set of probabilities sums to 100 % up to the display's rounding (3 x 0.05 %)
    sums = sums.filter((s) => !Number.isNaN(s))
    expect(sums.length).toBeGreaterThan(2)
    for (const sum of sums) expect(Math.abs(sum - 100)).toBeLessThanOrEqual(0.15)

    // the final verdict is what `phonoscope classify` says of the same recording, numbers included
    const offline = JSON.parse(phonoscope('classify', SAMPLE, '--json').stdout) as {
      verdict: ClassName
      probabilities: Record<ClassName, number>
      model: { name: string; version: string; precision: string }
      provider: string
    }
    // and the header names the model that ran, as classify does: its int8 twin on this CPU where its card allows
    const { name, version, precision } = offline.model
    expect(await page.textContent('[data-testid=model-line]')).toBe(
      `model ${name} ${version} · ${precision} · ${offline.provider}`,
    )
    await expect
      .poll(() => site.locator('[data-testid=verdict-label]').textContent())
      .toContain(CLASS_LABELS[offline.verdict])
    const final = await shownProbabilities(page, 'verdict-site')
    expect(final).toEqual(
      (['normal', 'mild', 'moderate_severe'] as const).map((c) => Number((offline.probabilities[c] * 100).toFixed(1))),
    )
    await screenshot(page, 'live-final')

    // the overlay toggles off and on (button and keyboard)
    const painted = async () => (await canvasSummary(page, 'attention-overlay')).painted
    await page.click('[data-testid=attention-toggle]')
    await expect.poll(painted).toBe(0)
    await page.keyboard.press('a')
    await expect.poll(painted).toBeGreaterThan(0)

    // the other theme: the page and the charts' axes repaint, and the choice survives a reload
    const themeOf = () => page.evaluate(() => document.documentElement.dataset.theme)
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    const timeline = () =>
      page.$eval('[data-testid=probability-timeline] canvas', (c) => (c as HTMLCanvasElement).toDataURL())
    const [firstTheme, firstBackground, firstTimeline] = [await themeOf(), await background(), await timeline()]
    await page.click('[data-testid=theme-toggle]')
    await expect.poll(background).not.toBe(firstBackground)
    await expect.poll(timeline).not.toBe(firstTimeline)
    const chosen = await themeOf()
    expect(chosen).not.toBe(firstTheme)
    await screenshot(page, `live-final-${chosen}`)
    await page.reload()
    await expect.poll(themeOf).toBe(chosen)
    expect(errors).toEqual([])
  })
})
