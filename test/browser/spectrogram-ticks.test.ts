import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { Result, SessionInfo } from '../../src/core/api/app'
import { appUnderTest, callFromPage, chromiumAvailable, openWithSample, screenshot } from '../helpers/browser'

interface Tick {
  kind: string
  /** the screen x of the tick's line */
  x: number
  /** that x as the instant the plot's time axis puts there (a line through its labels) */
  s: number
}

/** The S1 and S2 ticks of a strip, as on screen. */
function ticksOf(page: Page, strip: string, tick: string): Promise<Tick[]> {
  return page.$eval(
    `[data-testid=${strip}]`,
    (element, tick) => {
      let holder: Element | null = element
      while (holder && !holder.querySelector('[data-testid=time-axis]')) holder = holder.parentElement
      const labels = [...holder!.querySelectorAll<HTMLElement>('[data-testid=time-axis] [data-s]')].map((label) => {
        const box = label.getBoundingClientRect()
        return { s: Number(label.dataset.s), x: box.left + box.width / 2 }
      })
      const [first, last] = [labels[0]!, labels.at(-1)!]
      const secondsPerPixel = (last.s - first.s) / (last.x - first.x)
      return [...element.querySelectorAll<HTMLElement>(`[data-testid=${tick}]`)].map((t) => {
        const x = t.getBoundingClientRect().left + Number.parseFloat(getComputedStyle(t).borderLeftWidth) / 2
        return { kind: t.dataset.kind!, x, s: first.s + (x - first.x) * secondsPerPixel }
      })
    },
    tick,
  )
}

const status = (page: Page, site: string) => page.getAttribute(`[data-testid=site-${site}]`, 'data-status')

describe.skipIf(!chromiumAvailable())('S1 and S2 ticked along the spectrograms, in Chromium', () => {
  const app = appUnderTest(['--hop', '2'], { width: 1440, height: 1000 })

  it('ticks the live spectrogram where the waveform ticks, and the recorded one where each onset was heard', async () => {
    const { page } = app
    const errors = await openWithSample(page, app.server.url, 4)
    await page.click('[data-testid=start-session]') // records AV

    // live: the strip fills as the windows find the sounds, in both kinds
    await expect
      .poll(async () => (await ticksOf(page, 'spectrogram-ticks', 'spectrogram-tick')).length, { timeout: 30_000 })
      .toBeGreaterThan(0)
    await expect.poll(() => status(page, 'AV'), { timeout: 30_000 }).toBe('done')
    await page.waitForTimeout(500) // the last frames painted
    await screenshot(page, 'spectrogram-ticks-live')
    const live = await ticksOf(page, 'spectrogram-ticks', 'spectrogram-tick')
    const wave = await ticksOf(page, 'waveform-ticks', 'heart-sound-tick')
    expect(new Set(live.map((t) => t.kind))).toEqual(new Set(['S1', 'S2']))
    expect(wave.length).toBeGreaterThan(0)
    expect(live.length).toBeGreaterThan(wave.length) // 33 s of spectrogram, 6 s of waveform
    // every onset on the waveform is on the spectrogram too, at the same instant of its own time axis
    // (within a spectrogram column, 32 ms)
    for (const w of wave) {
      const nearest = Math.min(...live.filter((t) => t.kind === w.kind).map((t) => Math.abs(t.s - w.s)))
      expect(nearest, `${w.kind} at ${w.s.toFixed(2)} s`).toBeLessThan(0.032)
    }

    // review: one tick per onset the site's segmentation found, at onset / duration across the canvas
    await page.click('[data-testid=finish-session]')
    await page.click('[data-testid=finish-confirm]') // PV, TV and MV never recorded
    await expect.poll(() => page.isVisible('[data-testid=review-last]')).toBe(true)
    await page.click('[data-testid=review-last]')
    await expect.poll(() => page.isVisible('[data-testid=review-spectrogram]')).toBe(true)
    const sessions = (await callFromPage(page, 'sessions.list', {})).result as SessionInfo[]
    expect(sessions).toHaveLength(1)
    const session = (await callFromPage(page, 'session.get', { session: sessions[0]!.id })).result as SessionInfo
    const sounds = session.sites.find((s) => s.site === 'AV')!.heart_sounds!
    const spectrogram = (await callFromPage(page, 'site.spectrogram', { session: session.id, site: 'AV' }))
      .result as Result<'site.spectrogram'>
    const durationS = spectrogram.frames * spectrogram.hop_s
    const canvas = (await page.locator('[data-testid=review-spectrogram]').boundingBox())!
    const expected = (onsets: number[]) =>
      [...onsets]
        .sort((a, b) => a - b)
        .filter((t) => t <= durationS)
        .map((t) => canvas.x + (t / durationS) * canvas.width)
    await expect
      .poll(async () => (await ticksOf(page, 'spectrogram-ticks', 'spectrogram-tick')).length)
      .toBe(expected(sounds.s1).length + expected(sounds.s2).length)
    const review = await ticksOf(page, 'spectrogram-ticks', 'spectrogram-tick')
    for (const kind of ['S1', 'S2'] as const) {
      const want = expected(kind === 'S1' ? sounds.s1 : sounds.s2)
      const got = review.filter((t) => t.kind === kind).map((t) => t.x)
      expect(want.length, kind).toBeGreaterThan(0)
      expect(got).toHaveLength(want.length)
      got.forEach((x, i) => expect(Math.abs(x - want[i]!), `${kind} ${i}`).toBeLessThanOrEqual(1))
    }
    await screenshot(page, 'spectrogram-ticks-review')
    expect(errors).toEqual([])
  })
})
