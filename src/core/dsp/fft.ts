/**
 * Power spectrum |DFT(frame)|^2, bins 0..N/2, of a real frame of power-of-two size N >= 8.
 *
 * The real N-point transform is one complex FFT of half the size, M = N/2, over z[n] = x[2n] + i x[2n+1], and a split
 * step that separates the spectra of the even and odd samples (E, O) and joins them as X[k] = E[k] + W^k O[k]: half
 * the work of a complex N-point transform. The complex FFT is decimation in time in split real/imaginary Float64Arrays:
 * 4-point DFTs read straight from the (windowed) samples in bit-reversed order, then radix-4 passes and, when log2 M
 * is odd, one radix-2 pass. Four passes over the data for N = 256 where radix-2 makes seven: memory traffic, not
 * arithmetic, is what a JavaScript FFT spends its time on. Tables are built once per size and nothing is allocated per
 * frame (the log-Mel front end runs 31 frames per second of audio); the hot loops name each value rather than
 * destructure arrays, which V8 does not always take apart for free (the first version ran 3x slower for it).
 */
export class PowerSpectrum {
  readonly bins: number
  /** M, the size of the complex FFT */
  private readonly half: number
  /** the first sample pair of each 4-point DFT: pairs p, p + M/4, p + M/2, p + 3M/4 make the DFT's output 4j..4j+3 */
  private readonly leafPairs: Int32Array
  /**
   * The radix-4 passes, each with its twiddles in the order it reads them: for k < span, W^k, W^2k, W^3k as
   * (cos, -sin) pairs, W = exp(-2 pi i / (4 span)). Read sequentially into locals, they cost a third less than
   * lookups k * stride into one table.
   */
  private readonly passes: { span: number; twiddles: Float64Array }[] = []
  /** W^k, k < M/2, W = exp(-2 pi i / M), when the last pass is radix-2 (log2 M odd) */
  private readonly radix2Twiddles: Float64Array | undefined
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
    this.leafPairs = Int32Array.from({ length: half >> 2 }, (_, j) => bitReverse(4 * j, Math.log2(half)))
    let span = 4
    for (; 4 * span <= half; span *= 4) this.passes.push({ span, twiddles: twiddles(span, 4 * span, [1, 2, 3]) })
    this.radix2Twiddles = span < half ? twiddles(span, half, [1]) : undefined
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
    this.leaves(samples, start, window)
    for (const { span, twiddles } of this.passes) this.radix4(span, twiddles)
    if (this.radix2Twiddles) this.radix2(this.radix2Twiddles)
    this.split(out)
  }

  /** The 4-point DFTs of z over pairs p + q M/4 (q = 0..3), windowed as they are read, into re/im[4j..4j+3]. */
  private leaves(samples: Float64Array, start: number, window: Float64Array): void {
    const { half, leafPairs } = this
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
      this.store4(4 * j, 1, v0r, v0i, v1r, v1i, v2r, v2i, v3r, v3i)
    }
  }

  /**
   * One radix-4 pass: each block of 4 x span holds, in bit-reversed order, the DFTs of its samples n = 0, 2, 1 and
   * 3 (mod 4); twiddled and joined by a 4-point DFT they become the block's DFT.
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
        this.store4(a0, span, re[a0]!, im[a0]!, v1r, v1i, v2r, v2i, v3r, v3i)
      }
    }
  }

  /**
   * The 4-point DFT of v0..v3 (v_q already twiddled) into re/im[at + q step]:
   * V0 = v0 + v1 + v2 + v3, V1 = v0 - i v1 - v2 + i v3, V2 = v0 - v1 + v2 - v3, V3 = v0 + i v1 - v2 - i v3.
   */
  private store4(
    at: number,
    step: number,
    v0r: number,
    v0i: number,
    v1r: number,
    v1i: number,
    v2r: number,
    v2i: number,
    v3r: number,
    v3i: number,
  ): void {
    const { re, im } = this
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
    re[at + step] = d02r + d13i
    im[at + step] = d02i - d13r
    re[at + 2 * step] = s02r - s13r
    im[at + 2 * step] = s02i - s13i
    re[at + 3 * step] = d02r - d13i
    im[at + 3 * step] = d02i + d13r
  }

  /** The last pass when log2 M is odd: blocks of 2 x span, the DFTs of the even and odd samples, joined. */
  private radix2(twiddles: Float64Array): void {
    const { re, im } = this
    const span = this.half >> 1
    for (let k = 0; k < span; k++) {
      const b = k + span
      const c = twiddles[2 * k]!
      const s = twiddles[2 * k + 1]!
      const tr = c * re[b]! - s * im[b]!
      const ti = c * im[b]! + s * re[b]!
      const ar = re[k]!
      const ai = im[k]!
      re[k] = ar + tr
      im[k] = ai + ti
      re[b] = ar - tr
      im[b] = ai - ti
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
