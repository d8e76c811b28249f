import { rgb } from 'pdf-lib'
import type { SiteRecord } from '../api/app'
import { melBinOfHz } from '../dsp/mel'
import type { SiteRecording } from './input'
import { INK, MUTED, RULE, type PageWriter } from './pdf-layout'
import { S1_COLOUR, S2_COLOUR, sitePng, tickStripPixels } from './site-image'

/** print resolution of the spectrogram's pixels: sharp on paper (a printed line is ~300 dots per inch) */
const DPI = 300
const POINTS_PER_INCH = 72
/** points: the frequency labels' column, the picture, the time labels, the windows' strip, the waveform, the key */
const AXIS = 36
const PICTURE = 118
const TIME_LABELS = 12
const WINDOW_STRIP = 10
const WAVEFORM = 44
const KEY = 16
/** what a site's figure takes on the page, for keeping it whole */
export const SITE_FIGURE_HEIGHT = PICTURE + TIME_LABELS + WINDOW_STRIP + WAVEFORM + KEY + 8
/** frequencies a reader knows; those inside the card's band and far enough apart are labelled */
const HZ_LABELS = [25, 50, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 6000, 8000]
const MIN_LABEL_GAP = 9
/** time steps (s) for the ticks: the smallest that leaves at most ten across */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300]

const colour = ([r, g, b]: readonly [number, number, number]) => rgb(r / 255, g / 255, b / 255)

function label(out: PageWriter, text: string, x: number, y: number, align: 'left' | 'right' | 'centre'): void {
  const size = 7
  const width = out.regular.widthOfTextAtSize(text, size)
  const left = align === 'left' ? x : align === 'right' ? x - width : x - width / 2
  out.current.drawText(text, { x: left, y, size, font: out.regular, color: MUTED })
}

/**
 * A site's figure at the cursor: its spectrogram with the attention and the S1/S2 strip (an image at print
 * resolution), a frequency axis placed by the card's Mel band, a time axis, the windows behind the verdict as bars,
 * the waveform (vector) with the same heart-sound ticks, and a key.
 */
export async function drawSiteFigure(out: PageWriter, record: SiteRecord, recording: SiteRecording): Promise<void> {
  const { spectrogram: view } = recording
  const page = out.current
  const x0 = out.left + AXIS
  const width = out.width - AXIS
  const top = out.y
  const pixels = (points: number) => Math.round((points / POINTS_PER_INCH) * DPI)
  const [across, down] = [pixels(width), pixels(PICTURE)]
  const png = await out.doc.embedPng(sitePng(view, across, down))
  page.drawImage(png, { x: x0, y: top - PICTURE, width, height: PICTURE })
  page.drawRectangle({ x: x0, y: top - PICTURE, width, height: PICTURE, borderColor: RULE, borderWidth: 0.5 })

  // frequency axis: bin b fills rows b..b+1 of n_mels (sitePng), so a frequency sits at its bin's fraction + 1/2
  const band = { n_mels: view.n_mels, fmin: view.band_hz[0], fmax: view.band_hz[1] }
  const strip = (tickStripPixels(down) / down) * PICTURE // the S1/S2 strip atop the picture
  let lastY = -Infinity
  for (const hz of HZ_LABELS.filter((f) => f >= band.fmin && f <= band.fmax)) {
    const y = top - PICTURE + ((melBinOfHz(hz, band) + 0.5) / view.n_mels) * (PICTURE - strip)
    if (y - lastY < MIN_LABEL_GAP) continue
    lastY = y
    page.drawLine({ start: { x: x0 - 3, y }, end: { x: x0, y }, thickness: 0.5, color: MUTED })
    label(out, hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`, x0 - 5, y - 2.5, 'right')
  }

  // time axis below the picture
  const seconds = view.duration_s
  const step = TIME_STEPS.find((s) => seconds / s <= 10) ?? TIME_STEPS[TIME_STEPS.length - 1]!
  const xOf = (t: number) => x0 + (t / seconds) * width
  const axisY = top - PICTURE
  for (let t = 0; t <= seconds + 1e-9; t += step) {
    page.drawLine({ start: { x: xOf(t), y: axisY }, end: { x: xOf(t), y: axisY - 3 }, thickness: 0.5, color: MUTED })
    label(out, `${t} s`, xOf(t), axisY - TIME_LABELS + 2, 'centre')
  }

  // the windows behind the verdict, two rows so that overlapping ones read apart
  const stripTop = axisY - TIME_LABELS
  label(out, 'windows', x0 - 5, stripTop - 7, 'right')
  ;(record.verdict_windows ?? []).forEach((w, i) =>
    page.drawRectangle({
      x: xOf(w.start_s),
      y: stripTop - 4 - (i % 2) * 4,
      width: Math.max(0.5, xOf(Math.min(w.end_s, seconds)) - xOf(w.start_s)),
      height: 2.5,
      color: rgb(0.35, 0.35, 0.4),
    }),
  )

  // the waveform: its envelope as one filled outline, scaled to its loudest sample
  const waveTop = stripTop - WINDOW_STRIP
  const { min, max } = recording.waveform
  let peak = 1e-9
  for (let i = 0; i < max.length; i++) peak = Math.max(peak, Math.abs(max[i]!), Math.abs(min[i]!))
  const half = WAVEFORM / 2
  const at = (i: number, v: number) => `${((i + 0.5) / max.length) * width} ${half - (v / peak) * (half - 1)}`
  const outline = [...Array.from(max, (v, i) => at(i, v)), ...Array.from(min, (v, i) => at(i, v)).reverse()]
  page.drawSvgPath(`M ${outline.join(' L ')} Z`, { x: x0, y: waveTop, color: rgb(0.25, 0.3, 0.38) })
  page.drawRectangle({ x: x0, y: waveTop - WAVEFORM, width, height: WAVEFORM, borderColor: RULE, borderWidth: 0.5 })
  label(out, 'waveform', x0 - 5, waveTop - half - 2.5, 'right')
  const tick = (t: number, shade: readonly [number, number, number], length: number) =>
    page.drawLine({
      start: { x: xOf(t), y: waveTop },
      end: { x: xOf(t), y: waveTop - length },
      thickness: 0.8,
      color: colour(shade),
    })
  for (const t of view.heart_sounds?.s1 ?? []) tick(t, S1_COLOUR, 8)
  for (const t of view.heart_sounds?.s2 ?? []) tick(t, S2_COLOUR, 5)

  // the key
  const keyY = waveTop - WAVEFORM - 11
  let x = x0
  const key = (text: string, draw: (x: number) => void) => {
    draw(x)
    page.drawText(text, { x: x + 10, y: keyY, size: 7, font: out.regular, color: INK })
    x += 10 + out.regular.widthOfTextAtSize(text, 7) + 14
  }
  const swatch = (shade: ReturnType<typeof rgb>) => (x: number) =>
    page.drawRectangle({ x, y: keyY - 0.5, width: 7, height: 7, color: shade })
  key('S1 onset (long tick)', swatch(colour(S1_COLOUR)))
  key('S2 onset (short tick)', swatch(colour(S2_COLOUR)))
  key(
    view.attention ? 'heat: where the model looked for its verdict' : 'no attention: no window was graded',
    swatch(rgb(0.95, 0.45, 0.1)),
  )
  out.y = top - SITE_FIGURE_HEIGHT
}
