import type { Windowing } from '../api/model-card'

/**
 * - whole: the recording fits in one window and runs at its own length (short_input "as_is")
 * - wrap_padded: shorter than min_frames, tiled (pad "wrap") up to min_frames
 * - full: a window of window_frames on the hop grid
 * - last_aligned: the extra last window that ends at the last frame (last_window "align_end")
 */
export type WindowKind = 'whole' | 'wrap_padded' | 'full' | 'last_aligned'

export interface WindowPlan {
  index: number
  /** recording frames [start, end) the window covers */
  start: number
  end: number
  /** frames fed to the model (end - start, or min_frames when wrap-padded) */
  length: number
  kind: WindowKind
  padded: boolean
}

/**
 * The model card's windowing, as in training/phonoscope_training/data.py inference_windows: a recording of at most
 * window_frames frames runs once at its own length (wrap-padded to min_frames when shorter); a longer one is cut into
 * window_frames windows every hop frames, plus one window aligned to the end unless the grid already ends there.
 */
export function planWindows(nFrames: number, windowing: Windowing, hopFrames = windowing.hop_frames): WindowPlan[] {
  const { window_frames: size, min_frames: min } = windowing
  if (!Number.isInteger(nFrames) || nFrames <= 0) throw new RangeError(`cannot window ${nFrames} frames`)
  if (!Number.isInteger(hopFrames) || hopFrames <= 0) throw new RangeError(`hop must be a positive integer`)
  if (nFrames <= size) {
    const padded = nFrames < min
    return [
      {
        index: 0,
        start: 0,
        end: nFrames,
        length: padded ? min : nFrames,
        kind: padded ? 'wrap_padded' : 'whole',
        padded,
      },
    ]
  }
  const plans: WindowPlan[] = []
  let start = 0
  for (; start + size <= nFrames; start += hopFrames) {
    plans.push({ index: plans.length, start, end: start + size, length: size, kind: 'full', padded: false })
  }
  if (plans.at(-1)!.end < nFrames) {
    const s = nFrames - size
    plans.push({ index: plans.length, start: s, end: nFrames, length: size, kind: 'last_aligned', padded: false })
  }
  return plans
}

/** The model input of one window, [length, nMels] row-major: a copy of its frames, tiled when wrap-padded. */
export function windowInput(data: Float32Array, nMels: number, plan: WindowPlan): Float32Array {
  const n = plan.end - plan.start
  const out = new Float32Array(plan.length * nMels)
  const source = data.subarray(plan.start * nMels, plan.end * nMels)
  for (let at = 0; at < plan.length; at += n)
    out.set(source.subarray(0, Math.min(n, plan.length - at) * nMels), at * nMels)
  return out
}
