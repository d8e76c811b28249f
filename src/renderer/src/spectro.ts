import type { WindowVerdict } from '@core/api/app'
import frontend from '@core/dsp/frontend.json'
import { inferno, viridis } from './colormap'

/**
 * The front end's geometry, from its one source (src/core/dsp/frontend.json): the Mel bins' frequency range, and the
 * hop of the live stream's columns (a recorded site's spectrogram carries its own hop_s and n_mels).
 */
export const LIVE_HOP_S = frontend.hop_length / frontend.sample_rate
const { fmin: FMIN, fmax: FMAX } = frontend
/** The log-Mel range the colour scale spans (natural log of power; the front end gives roughly -23..+5). */
export const DB_MIN = -20
export const DB_MAX = 4

const melOf = (hz: number): number => (hz < 1000 ? (hz * 3) / 200 : 15 + Math.log(hz / 1000) / (Math.log(6.4) / 27))

/** A Mel bin's position (0 = lowest bin's centre .. nMels - 1) for a frequency: where to put an axis tick. */
export function binOfHz(hz: number, nMels: number): number {
  const lo = melOf(FMIN)
  const step = (melOf(FMAX) - lo) / (nMels + 1)
  return (melOf(hz) - lo) / step - 1
}

/** Frequency ticks up to the top of the Mel range. */
export const FREQ_TICKS = [100, 200, 500, 1000, 2000].filter((hz) => hz > FMIN && hz <= FMAX)

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
