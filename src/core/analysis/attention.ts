import type { WindowPlan } from './windowing'

/** An attention map as the model outputs it for one window: [classes, time', freq'] row-major. */
export interface AttentionMap {
  classes: number
  time: number
  freq: number
  data: Float32Array
}

/**
 * The attention map on the window's spectrogram grid [classes, frames, nMels]: each (frame, Mel bin) takes the value
 * of the attention cell it falls in. A cell spans floor(frames / time') frames and floor(nMels / freq') bins (16 x 16
 * for the CNN's four 2x2 poolings; 1 frame x all bins for the recurrent models); frames past the last whole cell
 * (pooling drops them) take the last cell. Values are the model's weights (each class sums to 1 over the cells).
 */
export function attentionOnGrid(map: AttentionMap, frames: number, nMels: number): Float32Array {
  const { classes, time, freq, data } = map
  const stepT = Math.max(1, Math.floor(frames / time))
  const stepF = Math.max(1, Math.floor(nMels / freq))
  const out = new Float32Array(classes * frames * nMels)
  for (let c = 0; c < classes; c++) {
    for (let t = 0; t < frames; t++) {
      const ct = Math.min(time - 1, Math.floor(t / stepT))
      for (let m = 0; m < nMels; m++) {
        const cf = Math.min(freq - 1, Math.floor(m / stepF))
        out[(c * frames + t) * nMels + m] = data[(c * time + ct) * freq + cf]!
      }
    }
  }
  return out
}

/**
 * One attention map over the whole recording [classes, nFrames, nMels] for display: the mean over the windows that
 * cover each frame of their grid maps (a wrap-padded window's tiled copies fold back onto the frames they repeat).
 */
export function recordingAttention(
  windows: { plan: WindowPlan; attention: AttentionMap }[],
  nFrames: number,
  nMels: number,
): Float32Array {
  const classes = windows[0]?.attention.classes ?? 0
  const sum = new Float32Array(classes * nFrames * nMels)
  const count = new Uint16Array(nFrames)
  for (const { plan, attention } of windows) {
    const grid = attentionOnGrid(attention, plan.length, nMels)
    const n = plan.end - plan.start
    for (let p = 0; p < plan.length; p++) {
      const frame = plan.start + (p % n)
      count[frame]!++
      for (let c = 0; c < classes; c++) {
        const to = (c * nFrames + frame) * nMels
        const from = (c * plan.length + p) * nMels
        for (let m = 0; m < nMels; m++) sum[to + m]! += grid[from + m]!
      }
    }
  }
  for (let c = 0; c < classes; c++)
    for (let f = 0; f < nFrames; f++) {
      const k = count[f]!
      if (k > 1) for (let m = 0; m < nMels; m++) sum[(c * nFrames + f) * nMels + m]! /= k
    }
  return sum
}
