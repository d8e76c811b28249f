import type { WindowVerdict } from '@core/api/app'
import { melBinOfHz, type MelBand } from '@core/dsp/mel'
import { inferno, viridis } from './colormap'

/** The log-Mel range the colour scale spans (natural log of power; the front end gives roughly -23..+5). */
export const DB_MIN = -20
export const DB_MAX = 4

/** Round frequencies a frequency axis may label; those inside the model's Mel band are shown. */
const TICK_HZ = [100, 200, 500, 1000, 2000, 4000, 8000]

/**
 * A frequency axis's ticks for the Mel bins of `band` (the model card's front end, the bin count of the image):
 * each at its bin position (melBinOfHz, the filterbank's own scale) in percent of the height from the bottom.
 */
export function freqTicks(band: MelBand): { hz: number; bottom: number }[] {
  return TICK_HZ.filter((hz) => hz > band.fmin && hz <= band.fmax).map((hz) => ({
    hz,
    bottom: Math.min(100, ((melBinOfHz(hz, band) + 0.5) / band.n_mels) * 100),
  }))
}

/**
 * Paints frames of log-Mel ([frames][nMels] row-major) into an ImageData (nMels rows) column by column, low
 * frequencies at the bottom, through viridis.
 */
export function paintColumns(data: ArrayLike<number>, frames: number, nMels: number, image: ImageData, x0 = 0): void {
  const { width } = image
  const scale = 255 / (DB_MAX - DB_MIN)
  for (let f = 0; f < frames; f++) {
    for (let m = 0; m < nMels; m++) {
      const v = data[f * nMels + m]!
      const k = Math.round(Math.min(255, Math.max(0, (v - DB_MIN) * scale))) * 3
      const p = ((nMels - 1 - m) * width + x0 + f) * 4
      image.data[p] = viridis[k]!
      image.data[p + 1] = viridis[k + 1]!
      image.data[p + 2] = viridis[k + 2]!
      image.data[p + 3] = 255
    }
  }
}

export interface AttentionGrid {
  time: number
  freq: number
  data: ArrayLike<number>
  first_frame: number
  frames: number
}

/** A window verdict's attention, placed on the frames it covers. */
export const attentionOf = (w: WindowVerdict): AttentionGrid => ({
  ...w.attention,
  first_frame: w.first_frame,
  frames: w.frames,
})

/** The attention overlay's opacity until the user moves its slider. */
export const DEFAULT_OPACITY = 0.9

/**
 * Draws an attention grid [time'][freq'] over the frames it covers: time' cells split first_frame..first_frame+frames
 * evenly, freq' cells split the canvas's `height` evenly (row 0 = lowest bins, drawn at the bottom). Each grid is
 * scaled to its own maximum (attention sums to 1; what matters is where it is), through inferno with alpha =
 * opacity x value: where the model looked stands out, the rest of the spectrogram stays readable under it. `x` maps
 * a frame to the canvas's x (one unit per frame).
 */
export function drawAttention(
  ctx: CanvasRenderingContext2D,
  grid: AttentionGrid,
  x: (frame: number) => number,
  height: number,
  opacity: number,
): void {
  let max = 0
  for (let i = 0; i < grid.data.length; i++) max = Math.max(max, grid.data[i]!)
  if (!(max > 0)) return
  const cellFrames = grid.frames / grid.time
  const cellHeight = height / grid.freq
  for (let t = 0; t < grid.time; t++) {
    const x0 = x(grid.first_frame + t * cellFrames)
    const x1 = x(grid.first_frame + (t + 1) * cellFrames)
    for (let f = 0; f < grid.freq; f++) {
      const a = grid.data[t * grid.freq + f]! / max
      if (a < 0.02) continue
      const k = Math.round(a * 255) * 3
      ctx.fillStyle = `rgba(${inferno[k]}, ${inferno[k + 1]}, ${inferno[k + 2]}, ${(opacity * a).toFixed(3)})`
      ctx.fillRect(x0, height - (f + 1) * cellHeight, x1 - x0, cellHeight)
    }
  }
}
