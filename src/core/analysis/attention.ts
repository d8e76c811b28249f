/*
 * Pure and import-free: the renderer's Review draws the whole site's attention with coverageWeightedAttention (it is
 * in tsconfig.web.json), the CLI's --attention and the classify's attention by phase use the same function.
 */

/** An attention map as the model outputs it for one window: [classes, time', freq'] row-major. */
export interface AttentionMap {
  classes: number
  time: number
  freq: number
  data: Float32Array
}

/**
 * One window's attention for one class, placed on the recording: [time'][freq'] cells over the recording frames
 * [first_frame, first_frame + frames). A wrap-padded window ran on `input_frames` (> frames) tiled frames.
 */
export interface PlacedAttention {
  first_frame: number
  frames: number
  input_frames?: number
  time: number
  freq: number
  data: ArrayLike<number>
}

/** Attention per recording frame, [time = frames][freq'] row-major (the renderer draws it as one column a frame). */
export interface FrameAttention {
  time: number
  freq: number
  data: Float32Array
  first_frame: 0
  frames: number
}

/**
 * Where the model looked over a whole recording, one row per frame: each window's map scaled by the number of its
 * time cells (1 = attention spread evenly over the window: a map sums to 1 whatever the window's length, so a 2 s
 * window's raw cells are 15x a 30 s window's), then averaged over the windows that cover each frame. Each frame
 * thus weighs every covering window alike, and a short early window cannot outshine the rest of the recording.
 * A cell spans floor(input_frames / time') frames (16 for the CNN's four 2x2 poolings), frames past the last whole
 * cell take the last cell; a wrap-padded window's tiled copies fold back onto the frames they repeat.
 */
export function coverageWeightedAttention(windows: PlacedAttention[], nFrames: number): FrameAttention | undefined {
  const freq = windows[0]?.freq
  if (!freq || nFrames <= 0) return undefined
  const sum = new Float32Array(nFrames * freq)
  const count = new Uint16Array(nFrames)
  for (const w of windows) {
    if (w.freq !== freq)
      throw new RangeError(`attention maps of ${w.freq} and ${freq} frequency cells cannot be averaged`)
    const input = w.input_frames ?? w.frames
    const step = Math.max(1, Math.floor(input / w.time))
    for (let p = 0; p < input; p++) {
      const frame = w.first_frame + (p % w.frames)
      if (frame < 0 || frame >= nFrames) continue
      const cell = Math.min(w.time - 1, Math.floor(p / step))
      count[frame]!++
      for (let f = 0; f < freq; f++) sum[frame * freq + f]! += w.data[cell * freq + f]! * w.time
    }
  }
  for (let frame = 0; frame < nFrames; frame++) {
    const k = count[frame]!
    if (k > 1) for (let f = 0; f < freq; f++) sum[frame * freq + f]! /= k
  }
  return { time: nFrames, freq, data: sum, first_frame: 0, frames: nFrames }
}

/** One class of a window's model map, placed on the recording frames it covers. */
export const placeClass = (
  map: AttentionMap,
  cls: number,
  span: { first_frame: number; frames: number; input_frames: number },
): PlacedAttention => ({
  ...span,
  time: map.time,
  freq: map.freq,
  data: map.data.subarray(cls * map.time * map.freq, (cls + 1) * map.time * map.freq),
})

/** Per-frame attention spread over `nMels` bins [frames][nMels]: each bin takes the frequency cell it falls in. */
export function onMelBins(attention: FrameAttention, nMels: number): Float32Array {
  const { frames, freq, data } = attention
  const step = Math.max(1, Math.floor(nMels / freq))
  const out = new Float32Array(frames * nMels)
  for (let t = 0; t < frames; t++)
    for (let m = 0; m < nMels; m++) out[t * nMels + m] = data[t * freq + Math.min(freq - 1, Math.floor(m / step))]!
  return out
}
