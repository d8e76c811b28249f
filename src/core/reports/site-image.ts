import { encodePng, heat } from '../analysis/png'

/** What a site's picture is drawn from: its log-Mel, where the model looked, and its heart sounds. */
export interface SiteSpectrogram {
  /** log-Mel [frames][n_mels] row-major, with the card's front end */
  frames: number
  n_mels: number
  data: Float32Array
  /** the band the Mel bins split (the card's fmin, fmax), for a frequency axis beside the picture */
  band_hz: [number, number]
  /** seconds between frames, and from a frame's start to its centre (half the FFT) */
  hop_s: number
  centre_s: number
  /** seconds of sound the picture spans (the recording's length) */
  duration_s: number
  /** the whole site's attention [frames][n_mels] (coverage-weighted over its windows); null: the site has none */
  attention: Float32Array | null
  /** onsets (s) of S1 and S2 (SiteRecord.heart_sounds) */
  heart_sounds?: { s1: number[]; s2: number[] }
}

/** S1 and S2 ticks, as the report's legend and waveform show them */
export const S1_COLOUR: readonly [number, number, number] = [0, 190, 255]
export const S2_COLOUR: readonly [number, number, number] = [120, 230, 60]
/** the share of the picture's height the tick strip takes at its top */
const TICK_STRIP = 0.07
/** how opaque the attention is where it is strongest (the renderer's default overlay) */
const OPACITY = 0.9
/** the grey ramp spans these quantiles of the log-Mel: a silent frame's floor (log 1e-10) would wash it out */
const CONTRAST: readonly [number, number] = [0.02, 0.995]

function quantiles(data: Float32Array, [lo, hi]: readonly [number, number]): [number, number] {
  const sorted = Float32Array.from(data.filter(Number.isFinite)).sort()
  if (sorted.length === 0) return [0, 1]
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return [at(lo), at(hi) > at(lo) ? at(hi) : at(lo) + 1]
}

/** The rows at the top of a `height`-pixel picture that its S1/S2 tick strip takes (the Mel bins share the rest). */
export const tickStripPixels = (height: number): number => Math.max(4, Math.round(TICK_STRIP * height))

/**
 * A site's spectrogram (grey, low frequencies at the bottom, time left to right over the recording) with the
 * model's attention over it (heat, as opaque as it is strong) and the S1/S2 onsets as ticks in a strip along its top:
 * the png artefact, and the report's picture of each site. Drawn at `width` x `height` pixels (nearest cell), so a
 * printed copy is as sharp as its pixels allow whatever the recording's length.
 */
export function sitePng(view: SiteSpectrogram, width: number, height: number): Buffer {
  if (!(width >= 1 && height >= 1 && view.frames > 0)) throw new RangeError('a site picture needs pixels and frames')
  const { frames, n_mels: nMels, data, attention } = view
  const [lo, hi] = quantiles(data, CONTRAST)
  let peak = 0
  if (attention) for (const a of attention) if (a > peak) peak = a
  const strip = tickStripPixels(height)
  const rgb = new Uint8Array(width * height * 3)
  const frameOf = new Int32Array(width)
  for (let x = 0; x < width; x++) {
    const t = ((x + 0.5) / width) * view.duration_s
    frameOf[x] = Math.min(frames - 1, Math.max(0, Math.round((t - view.centre_s) / view.hop_s)))
  }
  for (let y = strip; y < height; y++) {
    const mel = Math.min(nMels - 1, Math.floor(((height - 1 - y) / (height - strip)) * nMels))
    for (let x = 0; x < width; x++) {
      const cell = frameOf[x]! * nMels + mel
      const grey = 255 * Math.min(1, Math.max(0, (data[cell]! - lo) / (hi - lo)))
      const alpha = attention && peak > 0 ? (OPACITY * attention[cell]!) / peak : 0
      const overlay = alpha > 0 ? heat(attention![cell]! / peak) : [0, 0, 0]
      for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = Math.round(grey * (1 - alpha) + overlay[c]! * alpha)
    }
  }
  // the strip: white, with a tick at each onset (S1 across it, S2 over its lower two thirds, in their colours)
  rgb.fill(255, 0, strip * width * 3)
  const tickWidth = Math.max(2, Math.round(width / 600))
  const tick = (seconds: number, colour: readonly number[], from: number) => {
    const centre = Math.round((seconds / view.duration_s) * width)
    for (let y = from; y < strip; y++)
      for (let x = centre - (tickWidth >> 1); x < centre - (tickWidth >> 1) + tickWidth; x++)
        if (x >= 0 && x < width) rgb.set(colour, (y * width + x) * 3)
  }
  for (const s of view.heart_sounds?.s1 ?? []) tick(s, S1_COLOUR, 0)
  for (const s of view.heart_sounds?.s2 ?? []) tick(s, S2_COLOUR, Math.round(strip / 3))
  return encodePng(width, height, rgb)
}
