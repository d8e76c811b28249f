import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { accessibilityViolations, appUnderTest, callFromPage, chromiumAvailable, screenshot } from '../helpers/browser'
import { wavBytes } from '../helpers/wav'

// A recording the server may replay (PHONOSCOPE_DATA is one of its folders): 18 s of silence with a 250 Hz tone
// from 10 s to 15 s. 250 Hz is a quarter cycle per sample of the 200 Hz waveform, so the waveform shows it too.
const RATE = 4000
const data = mkdtempSync(join(tmpdir(), 'phonoscope-tone-'))
const TONE = join(data, 'tone.wav')
const samples = Array.from({ length: 18 * RATE }, (_, i) =>
  i >= 10 * RATE && i < 15 * RATE ? [0.5 * Math.sin((2 * Math.PI * 250 * i) / RATE)] : [0],
)
writeFileSync(TONE, wavBytes({ samples, sampleRate: RATE }))

interface Plot {
  /** screen x of each tick of the plot's time axis, by its label's seconds */
  ticks: Record<number, number>
  left: number
  width: number
  /** canvas columns */
  columns: number
  /** per canvas column: mean green of a spectrogram (viridis brightens with it), or a waveform's largest swing */
  level: number[]
}

/** A canvas and the time axis drawn with it, as on screen. */
function plot(page: Page, testId: string, waveform = false): Promise<Plot> {
  return page.$eval(
    `[data-testid=${testId}]`,
    (element, waveform) => {
      const canvas = element as HTMLCanvasElement
      let holder: Element | null = canvas
      while (holder && !holder.querySelector('[data-testid=time-axis]')) holder = holder.parentElement
      const ticks: Record<number, number> = {}
      for (const tick of holder!.querySelectorAll<HTMLElement>('[data-testid=time-axis] [data-s]')) {
        const box = tick.getBoundingClientRect()
        ticks[Number(tick.dataset.s)] = box.left + box.width / 2
      }
      const { width, height } = canvas
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, width, height).data
      const level = Array.from({ length: width }, (_, x) => {
        let value = 0
        for (let y = 0; y < height; y++) {
          const p = (y * width + x) * 4
          if (waveform) value = Math.max(value, pixels[p + 3]! > 0 ? Math.abs(y - height / 2) / (height / 2) : 0)
          else value += pixels[p + 1]! / height
        }
        return value
      })
      const box = canvas.getBoundingClientRect()
      return { ticks, left: box.left, width: box.width, columns: width, level }
    },
    waveform,
  )
}

/** The screen x of the first and just past the last canvas column above half the level's range. */
function burst(p: Plot): [number, number] {
  const low = Math.min(...p.level)
  const high = Math.max(...p.level)
  const loud = p.level.map((v) => v > (low + high) / 2)
  const first = loud.indexOf(true)
  const last = loud.lastIndexOf(true)
  const x = (column: number) => p.left + (column / p.columns) * p.width
  return [x(first), x(last + 1)]
}

/** The tone's 10-15 s on a spectrogram: centred between its 10 s and 15 s ticks within a column, as long as they are apart. */
function expectToneAtTicks(p: Plot, what: string): void {
  const column = p.width / p.columns
  const [start, end] = burst(p)
  expect(p.ticks[10], `${what}: a 10 s tick`).toBeDefined()
  expect(p.ticks[15], `${what}: a 15 s tick`).toBeDefined()
  expect(Math.abs((start + end) / 2 - (p.ticks[10]! + p.ticks[15]!) / 2), what).toBeLessThanOrEqual(column)
  // the analysis window (2 columns) smears each edge by up to one column
  expect(Math.abs(end - start - (p.ticks[15]! - p.ticks[10]!)), what).toBeLessThanOrEqual(2 * column)
}

describe.skipIf(!chromiumAvailable())('time axes in real units, and one exam at a time, in Chromium', () => {
  const app = appUnderTest([], { width: 1440, height: 1000 }, [], { PHONOSCOPE_DATA: data })

  it('a second window follows the running exam read-only, and a tone at 10-15 s lands on the 10 s and 15 s labels', async () => {
    const { page } = app
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(app.server.url)
    await page.waitForSelector('[data-testid=start-session]')
    // the other window: it starts an exam replaying the tone at 4x
    const other = await page.context().browser()!.newPage()
    await other.goto(app.server.url)
    await other.waitForSelector('[data-testid=start-session]')
    const started = await callFromPage(other, 'session.start', {
      source: { kind: 'file', path: TONE, speed: 4 },
      patient: 'Tone',
    })
    const id = (started.result as { id: string }).id

    // this window hears of it: it may not start a parallel exam, it may follow this one
    await expect.poll(() => page.isVisible('[data-testid=exam-running]')).toBe(true)
    expect(await page.textContent('[data-testid=exam-running]')).toContain('Tone')
    expect(await page.isDisabled('[data-testid=start-session]')).toBe(true)
    expect(await accessibilityViolations(page)).toEqual([])
    const refused = await callFromPage(other, 'session.start', { source: { kind: 'file', path: TONE } })
    expect(refused.error).toMatch(new RegExp(`examination ${id} \\(Tone\\): is in progress`))
    await page.click('[data-testid=follow-exam]')
    await expect.poll(() => page.isVisible('[data-testid=following]')).toBe(true)
    expect(await page.isVisible('[data-testid=site-primary]')).toBe(false) // read-only
    expect(await accessibilityViolations(page)).toEqual([])

    await callFromPage(other, 'site.start', { session: id, site: 'AV' })
    await expect.poll(() => page.getAttribute('[data-testid=site-AV]', 'data-status'), { timeout: 30_000 }).toBe('done')
    await page.waitForTimeout(500) // the last frames painted
    await screenshot(page, 'tone-live')

    // Live: the canvas spans 1024 columns from 0 s; the tone sits between its 10 s and 15 s labels
    const live = await plot(page, 'live-spectrogram')
    expectToneAtTicks(live, 'live spectrogram')
    // the waveform shows the last 6 s (12-18 s): the tone ends at its 15 s label, within a spectrogram column
    const wave = await plot(page, 'waveform', true)
    const [, waveEnd] = burst(wave)
    expect(wave.ticks[15]).toBeDefined()
    expect(Math.abs(waveEnd - wave.ticks[15]!)).toBeLessThanOrEqual((wave.width / 6) * 0.032)

    // the other window finishes; this one can review what it followed
    await callFromPage(other, 'session.stop', { session: id })
    await expect.poll(() => page.isVisible('[data-testid=review-last]')).toBe(true)
    expect(await page.isDisabled('[data-testid=start-session]')).toBe(false)
    await page.click('[data-testid=review-last]')
    await expect.poll(() => page.isVisible('[data-testid=review-spectrogram]')).toBe(true)
    await page.waitForTimeout(300)
    const review = await plot(page, 'review-spectrogram')
    expectToneAtTicks(review, 'review spectrogram')
    expect(Math.abs(review.ticks[0]! - review.left)).toBeLessThanOrEqual(1) // 0 s at the left edge, nothing else
    await screenshot(page, 'tone-review')
    await other.close()
    expect(errors).toEqual([])
  })
})
