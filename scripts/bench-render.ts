/**
 * `npm run bench:render`: how smoothly the live view draws in Debian's Chromium against `phonoscope serve`.
 *
 * One browser and one server; three pages in turn, each measured for the same time: the live view idle (the
 * reference: what the browser and this harness cost on their own), then the demo at real time and at 4x (the
 * spectrogram scrolling, columns arriving ~10 times a second, verdicts with attention overlays). Per page it prints the
 * display frames seen by requestAnimationFrame, the median and p95 frame interval, frames dropped (an interval of
 * k x 16.7 ms drops k - 1 frames) and the main thread's long animation frames (> 50 ms). A figure, not a test: headless
 * Chromium with --disable-gpu composites in software, so a laptop with a GPU does better, never worse.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { quantile } from '../src/core/analysis/metrics'
import { launchChromium, startServer } from '../test/helpers/browser'

const FRAME_MS = 1000 / 60
const seconds = Number(process.env.BENCH_SECONDS ?? 15)

interface PageFigures {
  page: string
  frames: number
  fps: number
  median_ms: number
  p95_ms: number
  dropped: number
  dropped_pct: number
  long_frames: number
  longest_ms: number
}

/**
 * Installed before the app's own scripts: every rAF timestamp and every long animation frame, kept in the page. A
 * string, not a function: tsx's transform would wrap named functions in a helper the page does not have.
 */
const RECORD_FRAMES = `
  window.__frames = []
  window.__long = []
  const tick = (t) => { window.__frames.push(t); requestAnimationFrame(tick) }
  requestAnimationFrame(tick)
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__long.push(entry.duration)
  }).observe({ type: 'long-animation-frame', buffered: true })
`

/** What RECORD_FRAMES keeps on the page's window. */
type FrameLog = { __frames: number[]; __long: number[] }

async function measure(page: Page, name: string, url: string): Promise<PageFigures> {
  await page.goto(url)
  await page.locator('main').waitFor()
  // settle (fonts, first layout, the demo's session starting), then count from zero
  await page.waitForTimeout(2000)
  await page.evaluate(() => {
    const log = window as unknown as FrameLog
    log.__frames.length = 0
    log.__long.length = 0
  })
  await page.waitForTimeout(seconds * 1000)
  const { frames, long } = await page.evaluate(() => {
    const log = window as unknown as FrameLog
    return { frames: [...log.__frames], long: [...log.__long] }
  })
  const intervals = frames.slice(1).map((t, i) => t - frames[i]!)
  const dropped = intervals.reduce((sum, d) => sum + Math.max(0, Math.round(d / FRAME_MS) - 1), 0)
  return {
    page: name,
    frames: frames.length,
    fps: (intervals.length * 1000) / (frames.at(-1)! - frames[0]!),
    median_ms: quantile(intervals, 0.5),
    p95_ms: quantile(intervals, 0.95),
    dropped,
    dropped_pct: (100 * dropped) / (frames.length + dropped),
    long_frames: long.length,
    longest_ms: Math.max(0, ...long),
  }
}

async function main(): Promise<void> {
  const server = await startServer(mkdtempSync(join(tmpdir(), 'phonoscope-bench-render-')))
  const browser = await launchChromium()
  const results: PageFigures[] = []
  try {
    for (const [name, query] of [
      ['idle live view (reference)', ''],
      ['demo, real time', '?demo=1'],
      ['demo, 4x', '?demo=4'],
    ] as const) {
      process.stderr.write(`measuring ${name} for ${seconds} s...\n`)
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
      await page.addInitScript(RECORD_FRAMES)
      results.push(await measure(page, name, server.url + query))
      await page.close()
    }
  } finally {
    await browser.close()
    await server.stop()
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2))
    return
  }
  console.log(`live view rendering in headless Chromium (software compositing), ${seconds} s per page`)
  console.log('page                        frames   fps  median ms  p95 ms  dropped  long frames (longest ms)')
  for (const r of results) {
    console.log(
      `${r.page.padEnd(27)} ${String(r.frames).padStart(6)} ${r.fps.toFixed(1).padStart(5)} ` +
        `${r.median_ms.toFixed(1).padStart(10)} ${r.p95_ms.toFixed(1).padStart(7)} ` +
        `${`${r.dropped} (${r.dropped_pct.toFixed(1)}%)`.padStart(12)}  ${r.long_frames} (${r.longest_ms.toFixed(0)})`,
    )
  }
  const [reference, ...live] = results
  for (const r of live)
    console.log(
      `${r.page}: ${(r.dropped_pct - reference!.dropped_pct).toFixed(1)} points more frames dropped than idle`,
    )
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error))
  process.exit(1)
})
