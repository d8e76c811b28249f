/** Synthetic heart sounds for the segmentation and quality tests: known onsets, a known rate, a fixed seed. */
import type { RecordingFeatures } from '../../src/core/analysis/recording'
import { DEFAULT_FRONTEND, frameCount } from '../../src/core/dsp/params'
export const RATE = 4000

/** A deterministic uniform generator in [0, 1) (Park-Miller), so every run hears the same noise. */
export function random(seed = 1): () => number {
  let s = seed
  return () => (s = (s * 16807) % 2147483647) / 2147483647
}

/** Gaussian noise (Box-Muller) of standard deviation sd. */
export function gaussianNoise(n: number, sd: number, seed = 7): Float32Array {
  const u = random(seed)
  return Float32Array.from(
    { length: n },
    () => sd * Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u()),
  )
}

export interface SyntheticPcg {
  signal: Float32Array
  s1: number[]
  s2: number[]
}

/**
 * Beats at `bpm`: S1 a 110 ms burst at 45-70 Hz, S2 an 85 ms burst at 60-90 Hz after the systole of that cycle
 * length (CirCor's fitted line), the cycle jittered by +-3 %, over quiet noise 35 dB down.
 */
export function syntheticPcg(bpm: number, seconds: number, seed = 3): SyntheticPcg {
  const n = Math.round(seconds * RATE)
  const signal = gaussianNoise(n, 0.003, seed)
  const u = random(seed + 11)
  const s1: number[] = []
  const s2: number[] = []
  const burst = (at: number, length: number, hz: number, amplitude: number) => {
    const start = Math.round(at * RATE)
    const count = Math.round(length * RATE)
    for (let i = 0; i < count && start + i < n; i++) {
      const shape = Math.sin((Math.PI * i) / count) ** 2
      signal[start + i]! += amplitude * shape * Math.sin((2 * Math.PI * hz * i) / RATE)
    }
  }
  for (let t = 0.3; t < seconds - 1;) {
    const cycle = (60 / bpm) * (1 + 0.06 * (u() - 0.5))
    const systole = 0.046 + 0.151 * cycle
    s1.push(t)
    burst(t, 0.11, 45 + 25 * u(), 0.3)
    s2.push(t + 0.11 + systole)
    burst(t + 0.11 + systole, 0.085, 60 + 30 * u(), 0.2)
    t += cycle
  }
  return { signal, s1, s2 }
}

/** A 4 kHz signal as the classifier's input: its samples, and a blank log-Mel of the right shape (for an Inferer stub). */
export const featuresOf = (signal: Float32Array, path = 'synthetic.wav'): RecordingFeatures => {
  const frames = frameCount(signal.length)
  return {
    path,
    frames,
    nMels: DEFAULT_FRONTEND.n_mels,
    data: new Float32Array(frames * DEFAULT_FRONTEND.n_mels),
    durationS: signal.length / RATE,
    sampleRate: RATE,
    signal,
  }
}
