import FFT from 'fft.js'

/** A second-order section, a0 normalised to 1: y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2. */
export interface Biquad {
  b: [number, number, number]
  a: [number, number]
}

/** Second-order Butterworth low- or high-pass at `cutoff` Hz (bilinear transform, Q = 1/sqrt 2; RBJ's cookbook). */
export function butterworth2(kind: 'lowpass' | 'highpass', cutoff: number, rate: number): Biquad {
  const w = (2 * Math.PI * cutoff) / rate
  const alpha = Math.sin(w) / Math.SQRT2
  const cos = Math.cos(w)
  const a0 = 1 + alpha
  const k = kind === 'lowpass' ? (1 - cos) / 2 : (1 + cos) / 2
  const b1 = kind === 'lowpass' ? 1 - cos : -(1 + cos)
  return { b: [k / a0, b1 / a0, k / a0], a: [(-2 * cos) / a0, (1 - alpha) / a0] }
}

function runBiquad(x: Float64Array, { b, a }: Biquad, reverse: boolean): void {
  const n = x.length
  // start in the steady state of the first sample, so a signal's offset does not ring at the edge
  const first = n ? x[reverse ? n - 1 : 0]! : 0
  const gain = (b[0] + b[1] + b[2]) / (1 + a[0] + a[1])
  let x1 = first
  let x2 = first
  let y1 = first * gain
  let y2 = y1
  const stride = reverse ? -1 : 1
  for (let k = 0, i = reverse ? n - 1 : 0; k < n; k++, i += stride) {
    const v = x[i]!
    const y = b[0] * v + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2
    x2 = x1
    x1 = v
    y2 = y1
    y1 = y
    x[i] = y
  }
}

/** Zero-phase filtering (forward then backward, like scipy's filtfilt) through each section, in place. */
export function filtfilt(x: Float64Array, sections: Biquad[]): Float64Array {
  for (const s of sections) {
    runBiquad(x, s, false)
    runBiquad(x, s, true)
  }
  return x
}

/** One FFT per size, kept: building one lays out its tables, which cost as much as a transform of a recording. */
const FFTS = new Map<number, FFT>()
function fftOf(size: number): FFT {
  let fft = FFTS.get(size)
  if (!fft) FFTS.set(size, (fft = new FFT(size)))
  return fft
}

/** |analytic signal| (the Hilbert envelope), by FFT over the next power of two of the signal's length. */
export function hilbertEnvelope(x: Float64Array): Float64Array {
  let size = 4
  while (size < x.length) size *= 2
  const fft = fftOf(size)
  const padded = new Float64Array(size)
  padded.set(x)
  // interleaved re, im (fft.js's layout); the real transform of a real signal fills bins 0..size/2, all that is kept
  const spectrum = new Float64Array(2 * size)
  fft.realTransform(spectrum, padded)
  // keep DC and Nyquist, double the positive frequencies; the negative ones stay zero
  for (let k = 1; k < size / 2; k++) {
    spectrum[2 * k]! *= 2
    spectrum[2 * k + 1]! *= 2
  }
  spectrum.fill(0, size + 2)
  const analytic = new Float64Array(2 * size)
  fft.inverseTransform(analytic, spectrum)
  const envelope = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) envelope[i] = hypot(analytic[2 * i]!, analytic[2 * i + 1]!)
  return envelope
}

/**
 * Math.hypot(a, b) of finite numbers, bit for bit as V8 computes it (each scaled by the larger, so
 * sqrt(1 + r^2) * max, r = min / max), inline: the builtin's call cost 20 times a square root.
 */
function hypot(a: number, b: number): number {
  const x = Math.abs(a)
  const y = Math.abs(b)
  const max = x > y ? x : y
  if (max === 0) return 0
  const r = (x > y ? y : x) / max
  return Math.sqrt(1 + r * r) * max
}
