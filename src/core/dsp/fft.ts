/**
 * Power spectrum |DFT(frame)|^2, bins 0..N/2, of a real frame of power-of-two size N >= 8.
 *
 * The real N-point transform is one complex FFT of half the size, M = N/2, over z[n] = x[2n] + i x[2n+1], and a split
 * step that separates the spectra of the even and odd samples (E, O) and joins them as X[k] = E[k] + W^k O[k]: half
 * the work of a complex N-point transform. The complex FFT is decimation in time in split real/imaginary Float64Arrays:
 * 4-point DFTs (8-point when log2 M is odd) read straight from the (windowed) samples in bit-reversed order, then
 * radix-4 passes. Three passes over the data and the split for N = 256 where radix-2 makes seven (8-point leaves in
 * place of a last radix-2 pass took a sixth off the log-Mel frame): memory traffic, not arithmetic, is what a
 * JavaScript FFT spends its time on. Tables are built once per size and nothing is allocated per frame (the log-Mel
 * front end runs 31 frames per second of audio); the hot loops name each value rather than destructure arrays, which
 * V8 does not always take apart for free (the first version ran 3x slower for it).
 */
export class PowerSpectrum {
  readonly bins: number
  /** M, the size of the complex FFT */
  private readonly half: number
  /** the points of the first DFTs: 8 when log2 M is odd (the radix-4 passes then add an even number of bits), else 4 */
  private readonly leafSize: 4 | 8
  /** the first sample pair of each leaf DFT: pairs p + q M / leafSize, q < leafSize, make its output at leafSize j.. */
  private readonly leafPairs: Int32Array
  /**
   * The radix-4 passes, each with its twiddles in the order it reads them: for k < span, W^k, W^2k, W^3k as
   * (cos, -sin) pairs, W = exp(-2 pi i / (4 span)). Read sequentially into locals, they cost a third less than
   * lookups k * stride into one table.
   */
  private readonly passes: { span: number; twiddles: Float64Array }[] = []
  /** W^k, k <= M/2, W = exp(-2 pi i / N): the split step's twiddles */
  private readonly splitTwiddles: Float64Array
  /** the unit window of compute() */
  private readonly ones: Float64Array
  private readonly re: Float64Array
  private readonly im: Float64Array

  constructor(readonly size: number) {
    if (size < 8 || !Number.isInteger(Math.log2(size))) {
      throw new RangeError(`FFT size ${size} is not a power of two of at least 8`)
    }
    const half = size >> 1
    this.bins = half + 1
    this.half = half
    const leafSize = Math.log2(half) % 2 === 1 ? 8 : 4
    this.leafSize = leafSize
    this.leafPairs = Int32Array.from({ length: half / leafSize }, (_, j) => bitReverse(leafSize * j, Math.log2(half)))
    for (let span = leafSize; span < half; span *= 4) {
      this.passes.push({ span, twiddles: twiddles(span, 4 * span, [1, 2, 3]) })
    }
    this.splitTwiddles = twiddles((half >> 1) + 1, size, [1])
    this.ones = new Float64Array(size).fill(1)
    this.re = new Float64Array(half)
    this.im = new Float64Array(half)
  }

  /** `frame` holds N windowed samples; `out` receives N/2 + 1 powers. */
  compute(frame: Float64Array, out: Float64Array): void {
    this.computeWindowed(frame, 0, this.ones, out)
  }

  /**
   * The power spectrum of samples[start, start + N) times `window` (N weights): the product is formed as the FFT
   * reads its input, so no windowed copy of the frame is made.
   */
  computeWindowed(samples: Float64Array, start: number, window: Float64Array, out: Float64Array): void {
    if (this.leafSize === 8) this.leaves8(samples, start, window)
    else this.leaves4(samples, start, window)
    for (const { span, twiddles } of this.passes) this.radix4(span, twiddles)
    this.split(out)
  }

  /** The 4-point DFTs of z over pairs p + q M/4 (q = 0..3), windowed as they are read, into re/im[4j..4j+3]. */
  private leaves4(samples: Float64Array, start: number, window: Float64Array): void {
    const { half, leafPairs, re, im } = this
    const quarter = 2 * (half >> 2) // samples between the pairs of one DFT
    for (let j = 0; j < leafPairs.length; j++) {
      const s0 = 2 * leafPairs[j]!
      const s1 = s0 + quarter
      const s2 = s1 + quarter
      const s3 = s2 + quarter
      const v0r = samples[start + s0]! * window[s0]!
      const v0i = samples[start + s0 + 1]! * window[s0 + 1]!
      const v1r = samples[start + s1]! * window[s1]!
      const v1i = samples[start + s1 + 1]! * window[s1 + 1]!
      const v2r = samples[start + s2]! * window[s2]!
      const v2i = samples[start + s2 + 1]! * window[s2 + 1]!
      const v3r = samples[start + s3]! * window[s3]!
      const v3i = samples[start + s3 + 1]! * window[s3 + 1]!
      // V0 = v0 + v1 + v2 + v3, V1 = v0 - i v1 - v2 + i v3, V2 = v0 - v1 + v2 - v3, V3 = v0 + i v1 - v2 - i v3
      const at = 4 * j
      const s02r = v0r + v2r
      const s02i = v0i + v2i
      const d02r = v0r - v2r
      const d02i = v0i - v2i
      const s13r = v1r + v3r
      const s13i = v1i + v3i
      const d13r = v1r - v3r
      const d13i = v1i - v3i
      re[at] = s02r + s13r
      im[at] = s02i + s13i
      re[at + 1] = d02r + d13i
      im[at + 1] = d02i - d13r
      re[at + 2] = s02r - s13r
      im[at + 2] = s02i - s13i
      re[at + 3] = d02r - d13i
      im[at + 3] = d02i + d13r
    }
  }

  /**
   * One radix-4 pass: each block of 4 x span holds, in bit-reversed order, the DFTs of its samples n = 0, 2, 1 and
   * 3 (mod 4); twiddled and joined by a 4-point DFT they become the block's DFT. The DFT is written out here and in
   * the leaves rather than called: a call V8 did not inline passed ten boxed doubles and made whole runs 1.6x slower.
   */
  private radix4(span: number, twiddles: Float64Array): void {
    const { half, re, im } = this
    for (let block = 0; block < half; block += 4 * span) {
      for (let k = 0; k < span; k++) {
        const a0 = block + k
        const a2 = a0 + span
        const a1 = a2 + span
        const a3 = a1 + span
        const w = 6 * k
        const c1 = twiddles[w]!
        const s1 = twiddles[w + 1]!
        const c2 = twiddles[w + 2]!
        const s2 = twiddles[w + 3]!
        const c3 = twiddles[w + 4]!
        const s3 = twiddles[w + 5]!
        const v1r = c1 * re[a1]! - s1 * im[a1]!
        const v1i = c1 * im[a1]! + s1 * re[a1]!
        const v2r = c2 * re[a2]! - s2 * im[a2]!
        const v2i = c2 * im[a2]! + s2 * re[a2]!
        const v3r = c3 * re[a3]! - s3 * im[a3]!
        const v3i = c3 * im[a3]! + s3 * re[a3]!
        const v0r = re[a0]!
        const v0i = im[a0]!
        // the 4-point DFT into a0 + q span, q = 0..3 (a2 = a0 + span, a1 = a0 + 2 span), as in leaves4
        const s02r = v0r + v2r
        const s02i = v0i + v2i
        const d02r = v0r - v2r
        const d02i = v0i - v2i
        const s13r = v1r + v3r
        const s13i = v1i + v3i
        const d13r = v1r - v3r
        const d13i = v1i - v3i
        re[a0] = s02r + s13r
        im[a0] = s02i + s13i
        re[a2] = d02r + d13i
        im[a2] = d02i - d13r
        re[a1] = s02r - s13r
        im[a1] = s02i - s13i
        re[a3] = d02r - d13i
        im[a3] = d02i + d13r
      }
    }
  }

  /**
   * The 8-point DFTs of z over pairs p + q M/8 (q = 0..7), windowed as they are read, into re/im[8j..8j+7]: the
   * 4-point DFTs E of the even and O of the odd q, joined as X[k] = E[k] + W^k O[k], X[k + 4] = E[k] - W^k O[k],
   * W = exp(-2 pi i / 8) (W O is O turned by 45, 90 or 135 degrees).
   */
  private leaves8(samples: Float64Array, start: number, window: Float64Array): void {
    const { half, leafPairs, re, im } = this
    const eighth = 2 * (half >> 3) // samples between the pairs of one DFT
    for (let j = 0; j < leafPairs.length; j++) {
      const s0 = 2 * leafPairs[j]!
      const s1 = s0 + eighth
      const s2 = s1 + eighth
      const s3 = s2 + eighth
      const s4 = s3 + eighth
      const s5 = s4 + eighth
      const s6 = s5 + eighth
      const s7 = s6 + eighth
      const x0r = samples[start + s0]! * window[s0]!
      const x0i = samples[start + s0 + 1]! * window[s0 + 1]!
      const x1r = samples[start + s1]! * window[s1]!
      const x1i = samples[start + s1 + 1]! * window[s1 + 1]!
      const x2r = samples[start + s2]! * window[s2]!
      const x2i = samples[start + s2 + 1]! * window[s2 + 1]!
      const x3r = samples[start + s3]! * window[s3]!
      const x3i = samples[start + s3 + 1]! * window[s3 + 1]!
      const x4r = samples[start + s4]! * window[s4]!
      const x4i = samples[start + s4 + 1]! * window[s4 + 1]!
      const x5r = samples[start + s5]! * window[s5]!
      const x5i = samples[start + s5 + 1]! * window[s5 + 1]!
      const x6r = samples[start + s6]! * window[s6]!
      const x6i = samples[start + s6 + 1]! * window[s6 + 1]!
      const x7r = samples[start + s7]! * window[s7]!
      const x7i = samples[start + s7 + 1]! * window[s7 + 1]!
      // E = DFT4(x0, x2, x4, x6), O = DFT4(x1, x3, x5, x7), as in leaves4
      const a04r = x0r + x4r
      const a04i = x0i + x4i
      const b04r = x0r - x4r
      const b04i = x0i - x4i
      const a26r = x2r + x6r
      const a26i = x2i + x6i
      const b26r = x2r - x6r
      const b26i = x2i - x6i
      const e0r = a04r + a26r
      const e0i = a04i + a26i
      const e1r = b04r + b26i
      const e1i = b04i - b26r
      const e2r = a04r - a26r
      const e2i = a04i - a26i
      const e3r = b04r - b26i
      const e3i = b04i + b26r
      const a15r = x1r + x5r
      const a15i = x1i + x5i
      const b15r = x1r - x5r
      const b15i = x1i - x5i
      const a37r = x3r + x7r
      const a37i = x3i + x7i
      const b37r = x3r - x7r
      const b37i = x3i - x7i
      const o0r = a15r + a37r
      const o0i = a15i + a37i
      const o1r = b15r + b37i
      const o1i = b15i - b37r
      const o2r = a15r - a37r
      const o2i = a15i - a37i
      const o3r = b15r - b37i
      const o3i = b15i + b37r
      // W O[1] = (1 - i) O[1] / sqrt 2, W^2 O[2] = -i O[2], W^3 O[3] = -(1 + i) O[3] / sqrt 2
      const t1r = (o1r + o1i) * Math.SQRT1_2
      const t1i = (o1i - o1r) * Math.SQRT1_2
      const t3r = (o3i - o3r) * Math.SQRT1_2
      const t3i = -(o3r + o3i) * Math.SQRT1_2
      const at = 8 * j
      re[at] = e0r + o0r
      im[at] = e0i + o0i
      re[at + 1] = e1r + t1r
      im[at + 1] = e1i + t1i
      re[at + 2] = e2r + o2i
      im[at + 2] = e2i - o2r
      re[at + 3] = e3r + t3r
      im[at + 3] = e3i + t3i
      re[at + 4] = e0r - o0r
      im[at + 4] = e0i - o0i
      re[at + 5] = e1r - t1r
      im[at + 5] = e1i - t1i
      re[at + 6] = e2r - o2i
      im[at + 6] = e2i + o2r
      re[at + 7] = e3r - t3r
      im[at + 7] = e3i - t3i
    }
  }

  /**
   * Z (the FFT of z) -> |X[k]|^2. With Y = conj Z[M-k]: 2E[k] = Z[k] + Y and 2O[k] = (Z[k] - Y) / i, then
   * X[k] = E + W^k O and X[M-k] = conj(E - W^k O), so each pass gives bins k and M-k (at k = M/2 the same bin, of
   * equal power either way). The halves are left out of E and O and the powers scaled by 1/4 instead (exact: a power
   * of two).
   */
  private split(out: Float64Array): void {
    const { half, re, im, splitTwiddles } = this
    const sum = re[0]! + im[0]!
    const difference = re[0]! - im[0]!
    out[0] = sum * sum
    out[half] = difference * difference
    for (let k = 1; k <= half >> 1; k++) {
      const zr = re[k]!
      const zi = im[k]!
      const yr = re[half - k]!
      const yi = -im[half - k]!
      const er = zr + yr
      const ei = zi + yi
      const or = zi - yi
      const oi = yr - zr
      const c = splitTwiddles[2 * k]!
      const s = splitTwiddles[2 * k + 1]!
      const tr = c * or - s * oi
      const ti = c * oi + s * or
      const pr = er + tr
      const pi = ei + ti
      const mr = er - tr
      const mi = ei - ti
      out[k] = 0.25 * (pr * pr + pi * pi)
      out[half - k] = 0.25 * (mr * mr + mi * mi)
    }
  }
}

/** exp(-2 pi i q k / period) as (cos, -sin) pairs for k < count, the powers q of each k side by side. */
function twiddles(count: number, period: number, powers: number[]): Float64Array {
  const table = new Float64Array(2 * powers.length * count)
  let at = 0
  for (let k = 0; k < count; k++) {
    for (const q of powers) {
      table[at++] = Math.cos((2 * Math.PI * q * k) / period)
      table[at++] = -Math.sin((2 * Math.PI * q * k) / period)
    }
  }
  return table
}

/** i with its low `bits` bits in reverse order */
function bitReverse(i: number, bits: number): number {
  let r = 0
  for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b)
  return r
}
