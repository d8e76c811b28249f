import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { melBinOfHz } from '../../src/core/dsp/mel'
import { DEFAULT_FRONTEND } from '../../src/core/dsp/params'
import { appUnderTest, callFromPage, chromiumAvailable, screenshot, withSecondWindow } from '../helpers/browser'
import { OTHER_GEOMETRY, OTHER_HOP_S, writeTone } from '../helpers/geometry'
import { tinyModel } from '../unit/model-fixture'

// A recording the server may replay (PHONOSCOPE_DATA is one of its folders): 20 s, a 700 Hz tone from 5 s to 15 s.
// At the other geometry's 25 ms hop that is 798 frames (1 + (80000 - 256) / 100), the tone on frames 200-600.
const data = mkdtempSync(join(tmpdir(), 'phonoscope-geometry-tone-'))
const TONE = writeTone(join(data, 'tone.wav'), { seconds: 20, hz: 700, from: 5, to: 15 })
const FRAMES = 798
const BAND = { ...DEFAULT_FRONTEND, ...OTHER_GEOMETRY.frontend }

interface View {
  canvas: { left: number; top: number; width: number; height: number; columns: number; rows: number }
  /** screen y of each frequency-axis label's centre (where its frequency is drawn), by its Hz */
  hz: Record<number, number>
  /** screen x of each time-axis tick, by its seconds */
  s: Record<number, number>
  /** per canvas row (top first): mean green (viridis brightens with it) */
  rowLevel: number[]
  /** per canvas column: the green of the brightest row */
  columnLevel: number[]
}

/** A spectrogram canvas, its pixels, and the two axes drawn with it, as on screen. */
function viewOf(page: Page, testId: string): Promise<View> {
  return page.$eval(`[data-testid=${testId}]`, (element) => {
    const canvas = element as HTMLCanvasElement
    let frame: Element | null = canvas
    while (frame && !frame.querySelector('[data-testid=freq-axis]')) frame = frame.parentElement
    const centres = (selector: string, key: 'hz' | 's') => {
      const out: Record<number, number> = {}
      for (const tick of frame!.querySelectorAll<HTMLElement>(selector)) {
        const box = tick.getBoundingClientRect()
        out[Number(tick.dataset[key])] = key === 'hz' ? box.top + box.height / 2 : box.left + box.width / 2
      }
      return out
    }
    const { width, height } = canvas
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, width, height).data
    const green = (x: number, y: number) => pixels[(y * width + x) * 4 + 1]!
    const rowLevel = Array.from({ length: height }, (_, y) => {
      let sum = 0
      for (let x = 0; x < width; x++) sum += green(x, y)
      return sum / width
    })
    const columnLevel = Array.from({ length: width }, (_, x) =>
      Math.max(...Array.from({ length: height }, (_, y) => green(x, y))),
    )
    const box = canvas.getBoundingClientRect()
    return {
      canvas: { left: box.left, top: box.top, width: box.width, height: box.height, columns: width, rows: height },
      hz: centres('[data-testid=freq-axis] [data-hz]', 'hz'),
      s: centres('[data-testid=time-axis] [data-s]', 's'),
      rowLevel,
      columnLevel,
    }
  })
}

/**
 * The screen y where the Mel scale of the model's band (40 bins over 0-1000 Hz) draws `hz`; the band's top (half a
 * bin above the last bin's centre) is labelled at the canvas's top edge.
 */
function yOfHz(view: View, hz: number): number {
  const { top, height } = view.canvas
  return Math.max(top, top + height - ((melBinOfHz(hz, BAND) + 0.5) / BAND.n_mels) * height)
}

/**
 * What either spectrogram must show of the card's geometry: 40 rows, a frequency axis up to 1000 Hz with each label
 * where the Mel scale of that band puts it, the tone's row at 700 Hz, a time axis over the canvas's columns at 25 ms
 * each from 0 s (the live canvas fills from the left: the tone's 798 frames fit) and the tone from its 5 s to its
 * 15 s label.
 */
function expectGeometry(view: View, what: string): void {
  const { canvas } = view
  const row = canvas.height / canvas.rows
  const column = canvas.width / canvas.columns
  const spanS = canvas.columns * OTHER_HOP_S
  expect(canvas.rows, what).toBe(40)
  expect(Object.keys(view.hz).map(Number), what).toEqual([100, 200, 500, 1000]) // no 2000: the band ends at 1000 Hz
  // 500 Hz is bin 19.5 of 40 over 0-1000 Hz: the middle of the canvas (bin 18.4 of 64 over 0-2000 Hz: 30 % up)
  expect(melBinOfHz(500, BAND)).toBeCloseTo(19.5, 9)
  for (const [hz, y] of Object.entries(view.hz)) {
    expect(Math.abs(y - yOfHz(view, Number(hz))), `${what}: the ${hz} Hz label`).toBeLessThanOrEqual(1)
  }
  // the tone's brightest row is where the axis puts 700 Hz: bin 27.7 of 40, between the rows of bins 27 and 28 (a
  // tone between two bins lights both nearly alike, so within a row of either; 64 bins over 0-2000 Hz: 78 px lower)
  const brightest = view.rowLevel.indexOf(Math.max(...view.rowLevel))
  expect(melBinOfHz(700, BAND)).toBeCloseTo(27.7, 9)
  expect(
    Math.abs(yOfHz(view, 700) - (canvas.top + (brightest + 0.5) * row)),
    `${what}: the tone's row`,
  ).toBeLessThanOrEqual(row)

  // every time label where its instant falls on that span, and the tone from the 5 s to the 15 s label
  expect(view.s[5], `${what}: a 5 s label`).toBeDefined()
  expect(view.s[15], `${what}: a 15 s label`).toBeDefined()
  for (const [s, x] of Object.entries(view.s)) {
    expect(
      Math.abs(x - (canvas.left + (Number(s) / spanS) * canvas.width)),
      `${what}: the ${s} s label`,
    ).toBeLessThanOrEqual(1)
  }
  const low = Math.min(...view.columnLevel)
  const high = Math.max(...view.columnLevel)
  const loud = view.columnLevel.map((v) => v > (low + high) / 2)
  const start = canvas.left + loud.indexOf(true) * column
  const end = canvas.left + (loud.lastIndexOf(true) + 1) * column
  // the analysis window (256 samples, 2.56 columns) smears each edge by up to three columns
  expect(Math.abs(start - view.s[5]!), `${what}: the tone's start`).toBeLessThanOrEqual(3 * column)
  expect(Math.abs(end - view.s[15]!), `${what}: the tone's end`).toBeLessThanOrEqual(3 * column)
}

describe.skipIf(!chromiumAvailable())('another geometry from the model card, in Chromium: axes in its units', () => {
  // phonoscope serve runs the tiny 40-bin model, built (or found built) before the app's hooks start it
  const serve: string[] = []
  beforeAll(() => void serve.push('--model', tinyModel(OTHER_GEOMETRY)), 180_000)
  const app = appUnderTest(serve, { width: 1440, height: 1000 }, [], { PHONOSCOPE_DATA: data })

  it('draws the live and the recorded spectrogram of a 700 Hz tone with 40 bins up to 1000 Hz at 25 ms a column', async () => {
    const { page } = app
    const { other, errors } = await withSecondWindow(app)
    const started = await callFromPage(other, 'session.start', { source: { kind: 'file', path: TONE, speed: 4 } })
    expect(started.error).toBeUndefined()
    const id = (started.result as { id: string }).id
    await expect.poll(() => page.isVisible('[data-testid=follow-exam]')).toBe(true)
    await page.click('[data-testid=follow-exam]')
    await expect.poll(() => page.isVisible('[data-testid=following]')).toBe(true)
    await callFromPage(other, 'site.start', { session: id, site: 'AV' })
    await expect.poll(() => page.getAttribute('[data-testid=site-AV]', 'data-status'), { timeout: 30_000 }).toBe('done')
    await page.waitForTimeout(500) // the last frames painted
    await screenshot(page, 'model-geometry-live')
    expectGeometry(await viewOf(page, 'live-spectrogram'), 'live spectrogram')

    await callFromPage(other, 'session.stop', { session: id })
    await expect.poll(() => page.isVisible('[data-testid=review-last]')).toBe(true)
    await page.click('[data-testid=review-last]')
    await expect.poll(() => page.isVisible('[data-testid=review-spectrogram]')).toBe(true)
    await page.waitForTimeout(300)
    await screenshot(page, 'model-geometry-review')
    const review = await viewOf(page, 'review-spectrogram')
    expect(review.canvas.columns).toBe(FRAMES)
    expectGeometry(review, 'review spectrogram')
    await other.close()
    expect(errors).toEqual([])
  })
})
