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

/**
 * The envelope's working arrays, per size, kept like the FFTs: a recording's are megabytes, and allocating (and
 * zeroing) them anew for each was a tenth of the envelope's time, and garbage for the collector.
 */
const SCRATCH = new Map<number, Record<'padded' | 'spectrum' | 'folded' | 'transform', Float64Array>>()
function scratchOf(size: number) {
  let scratch = SCRATCH.get(size)
  if (!scratch) {
    scratch = {
      padded: new Float64Array(size),
      spectrum: new Float64Array(2 * size),
      folded: new Float64Array(size),
      transform: new Float64Array(size),
    }
    SCRATCH.set(size, scratch)
  }
  return scratch
}

/** e^(2 pi i k / size), k < size / 2, per size: the twiddles that fold a real inverse into a half-size one. */
const HALF_TWIDDLES = new Map<number, { cos: Float64Array; sin: Float64Array }>()
function halfTwiddles(size: number) {
  let twiddles = HALF_TWIDDLES.get(size)
  if (!twiddles) {
    const angle = (k: number) => (2 * Math.PI * k) / size
    twiddles = {
      cos: Float64Array.from({ length: size / 2 }, (_, k) => Math.cos(angle(k))),
      sin: Float64Array.from({ length: size / 2 }, (_, k) => Math.sin(angle(k))),
    }
    HALF_TWIDDLES.set(size, twiddles)
  }
  return twiddles
}

/**
 * |analytic signal| (the Hilbert envelope) over the next power of two N of the signal's length: |x + i h|, with h
 * the Hilbert transform, whose spectrum is -i X[k] for 0 < k < N/2 (+i X[k] above, 0 at DC and Nyquist). x's
 * spectrum comes from fft.js's real transform; h, being real, from a complex inverse of half the size (even samples
 * in the real part, odd in the imaginary): a third of the work of a full complex inverse of the analytic spectrum.
 */
export function hilbertEnvelope(x: Float64Array): Float64Array {
  let size = 4
  while (size < x.length) size *= 2
  const half = size / 2
  const { padded, spectrum, folded, transform } = scratchOf(size)
  padded.set(x)
  padded.fill(0, x.length)
  // interleaved re, im (fft.js's layout): bins 0..N/2 filled (and only those are read below)
  fftOf(size).realTransform(spectrum, padded)
  // G = the spectrum of h. Folded: W[k] = A[k] + i B[k], A = G[k] + G[k + N/2], B = (G[k] - G[k + N/2]) e^(2 pi i k/N),
  // where G[k + N/2] = conj G[N/2 - k]; the inverse of W (1/(N/2) scaled) holds 2 h[2m] + 2i h[2m + 1]
  const { cos, sin } = halfTwiddles(size)
  for (let k = 0; k < half; k++) {
    // G[k] = -i X[k] = X.im - i X.re, and conj G[N/2 - k] = X'.im + i X'.re (X' = X[N/2 - k]); both 0 at DC, Nyquist
    const inside = k > 0
    const gr = inside ? spectrum[2 * k + 1]! : 0
    const gi = inside ? -spectrum[2 * k]! : 0
    const mirror = half - k
    const mr = inside ? spectrum[2 * mirror + 1]! : 0
    const mi = inside ? spectrum[2 * mirror]! : 0
    const dr = gr - mr
    const di = gi - mi
    const br = dr * cos[k]! - di * sin[k]!
    const bi = dr * sin[k]! + di * cos[k]!
    // W = A + i B
    folded[2 * k] = (gr + mr - bi) / 2
    folded[2 * k + 1] = (gi + mi + br) / 2
  }
  fftOf(half).inverseTransform(transform, folded)
  const envelope = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) envelope[i] = hypot(x[i]!, transform[i]!)
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
