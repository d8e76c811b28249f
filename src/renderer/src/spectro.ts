import type { WindowVerdict } from '@core/api/app'
import { inferno, viridis } from './colormap'

/** The front end's geometry (src/core/dsp/frontend.json): 4 kHz, hop 128, 64 Slaney Mel bins over 0-2000 Hz. */
export const N_MELS = 64
export const HOP_S = 128 / 4000
export const FRAMES_PER_S = 1 / HOP_S
/** The log-Mel range the colour scale spans (natural log of power; the front end gives roughly -23..+5). */
export const DB_MIN = -20
export const DB_MAX = 4

const melOf = (hz: number): number => (hz < 1000 ? (hz * 3) / 200 : 15 + Math.log(hz / 1000) / (Math.log(6.4) / 27))
const hzOf = (mel: number): number => (mel < 15 ? (mel * 200) / 3 : 1000 * Math.exp((mel - 15) * (Math.log(6.4) / 27)))

/** A Mel bin's position (0 = lowest bin's centre .. 63) for a frequency: where to put an axis tick. */
export function binOfHz(hz: number): number {
  const lo = melOf(0)
  const step = (melOf(2000) - lo) / (N_MELS + 1)
  return (melOf(hz) - lo) / step - 1
}
export const hzOfBin = (bin: number): number => hzOf(melOf(0) + ((bin + 1) * (melOf(2000) - melOf(0))) / (N_MELS + 1))

export const FREQ_TICKS = [100, 200, 500, 1000, 2000]

/**
 * Paints frames of log-Mel ([frames][64] row-major) into an ImageData column by column, low frequencies at the
 * bottom, through viridis.
 */
export function paintColumns(data: ArrayLike<number>, frames: number, image: ImageData, x0 = 0): void {
  const { width } = image
  const scale = 255 / (DB_MAX - DB_MIN)
  for (let f = 0; f < frames; f++) {
    for (let m = 0; m < N_MELS; m++) {
      const v = data[f * N_MELS + m]!
      const k = Math.round(Math.min(255, Math.max(0, (v - DB_MIN) * scale))) * 3
      const p = ((N_MELS - 1 - m) * width + x0 + f) * 4
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
  data: number[]
  first_frame: number
  frames: number
}

/** A window verdict's attention, placed on the frames it covers. */
export const attentionOf = (w: WindowVerdict): AttentionGrid => ({
  ...w.attention,
  first_frame: w.first_frame,
  frames: w.frames,
})

/**
 * Draws an attention grid [time'][freq'] over the frames it covers: time' cells split first_frame..first_frame+frames
 * evenly, freq' cells split the 64 Mel bins evenly (row 0 = lowest bins, drawn at the bottom). Each grid is scaled to
 * its own maximum (attention sums to 1; what matters is where it is), through inferno with alpha = opacity x value.
 * `x` maps a frame to the canvas's x (one unit per frame), `yPerBin` the canvas's units per Mel bin.
 */
export function drawAttention(
  ctx: CanvasRenderingContext2D,
  grid: AttentionGrid,
  x: (frame: number) => number,
  yPerBin: number,
  opacity: number,
): void {
  let max = 0
  for (const v of grid.data) max = Math.max(max, v)
  if (!(max > 0)) return
  const cellFrames = grid.frames / grid.time
  const cellBins = N_MELS / grid.freq
  for (let t = 0; t < grid.time; t++) {
    const x0 = x(grid.first_frame + t * cellFrames)
    const x1 = x(grid.first_frame + (t + 1) * cellFrames)
    for (let f = 0; f < grid.freq; f++) {
      const a = grid.data[t * grid.freq + f]! / max
      if (a < 0.02) continue
      const k = Math.round(a * 255) * 3
      ctx.fillStyle = `rgba(${inferno[k]}, ${inferno[k + 1]}, ${inferno[k + 2]}, ${(opacity * a).toFixed(3)})`
      const top = (N_MELS - (f + 1) * cellBins) * yPerBin
      ctx.fillRect(x0, top, x1 - x0, cellBins * yPerBin)
    }
  }
}

/**
 * Where the model looked over a whole recording: every window's map spread over the frames it covers (each cell's
 * share divided by its frame count), averaged over the windows covering each frame. One column per frame.
 */
export function averageAttention(grids: AttentionGrid[], totalFrames: number): AttentionGrid | undefined {
  const freq = grids[0]?.freq
  if (!freq || totalFrames <= 0) return undefined
  const sum = new Float64Array(totalFrames * freq)
  const count = new Uint16Array(totalFrames)
  for (const g of grids) {
    if (g.freq !== freq) continue
    const cellFrames = g.frames / g.time
    for (let frame = Math.max(0, g.first_frame); frame < Math.min(totalFrames, g.first_frame + g.frames); frame++) {
      const t = Math.min(g.time - 1, Math.floor((frame - g.first_frame) / cellFrames))
      for (let f = 0; f < freq; f++) sum[frame * freq + f]! += g.data[t * freq + f]! / cellFrames
      count[frame]!++
    }
  }
  const data = Array.from(sum, (v, i) => (count[Math.floor(i / freq)] ? v / count[Math.floor(i / freq)]! : 0))
  return { time: totalFrames, freq, data, first_frame: 0, frames: totalFrames }
}
