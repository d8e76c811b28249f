/**
 * Power spectrum of a real frame of even power-of-two size N, in float64: the N real samples are packed into N/2
 * complex ones, transformed by an iterative radix-2 FFT of size N/2 and split into the N/2 + 1 bins of the real
 * transform. Tables (bit reversal, twiddles) are built once per size.
 */
export class PowerSpectrum {
  readonly bins: number
  private readonly half: number
  private readonly re: Float64Array
  private readonly im: Float64Array
  private readonly reversed: Uint32Array
  /** twiddles of the half-size FFT, stage after stage: for a stage of span s, cos/sin(-2 pi k / 2s), k < s */
  private readonly stageCos: Float64Array
  private readonly stageSin: Float64Array
  /** twiddles of the real-to-complex split: cos/sin(-2 pi k / N), k <= N/2 */
  private readonly splitCos: Float64Array
  private readonly splitSin: Float64Array

  constructor(readonly size: number) {
    if (size < 8 || !Number.isInteger(Math.log2(size)))
      throw new RangeError(`FFT size ${size} is not a power of two >= 8`)
    const half = size / 2
    this.half = half
    this.bins = half + 1
    this.re = new Float64Array(half)
    this.im = new Float64Array(half)
    const bits = Math.log2(half)
    this.reversed = Uint32Array.from({ length: half }, (_, i) => {
      let r = 0
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b)
      return r
    })
    this.stageCos = new Float64Array(half)
    this.stageSin = new Float64Array(half)
    for (let span = 1, at = 0; span < half; span *= 2) {
      for (let k = 0; k < span; k++, at++) {
        this.stageCos[at] = Math.cos((Math.PI * k) / span)
        this.stageSin[at] = -Math.sin((Math.PI * k) / span)
      }
    }
    this.splitCos = Float64Array.from({ length: half + 1 }, (_, k) => Math.cos((2 * Math.PI * k) / size))
    this.splitSin = Float64Array.from({ length: half + 1 }, (_, k) => -Math.sin((2 * Math.PI * k) / size))
  }

  /** |FFT(frame)|^2 for bins 0..N/2 into `out`; `frame` holds N windowed samples. */
  compute(frame: Float64Array, out: Float64Array): void {
    const { re, im, reversed, half, stageCos, stageSin } = this
    for (let n = 0; n < half; n++) {
      const r = reversed[n]!
      re[r] = frame[2 * n]!
      im[r] = frame[2 * n + 1]!
    }
    // the first two stages have trivial twiddles (1, and 1 / -i): one radix-4 pass
    for (let a = 0; a < half; a += 4) {
      const r0 = re[a]! + re[a + 1]!
      const i0 = im[a]! + im[a + 1]!
      const r1 = re[a]! - re[a + 1]!
      const i1 = im[a]! - im[a + 1]!
      const r2 = re[a + 2]! + re[a + 3]!
      const i2 = im[a + 2]! + im[a + 3]!
      const r3 = re[a + 2]! - re[a + 3]!
      const i3 = im[a + 2]! - im[a + 3]!
      re[a] = r0 + r2
      im[a] = i0 + i2
      re[a + 2] = r0 - r2
      im[a + 2] = i0 - i2
      re[a + 1] = r1 + i3
      im[a + 1] = i1 - r3
      re[a + 3] = r1 - i3
      im[a + 3] = i1 + r3
    }
    for (let span = 4, table = 3; span < half; table += span, span *= 2) {
      for (let start = 0; start < half; start += 2 * span) {
        for (let k = 0; k < span; k++) {
          const a = start + k
          const b = a + span
          const wr = stageCos[table + k]!
          const wi = stageSin[table + k]!
          const xr = re[b]!
          const xi = im[b]!
          const br = xr * wr - xi * wi
          const bi = xr * wi + xi * wr
          const ar = re[a]!
          const ai = im[a]!
          re[b] = ar - br
          im[b] = ai - bi
          re[a] = ar + br
          im[a] = ai + bi
        }
      }
    }
    // X[k] = E[k] + W^k O[k], with E = (Z[k] + conj Z[M-k]) / 2 and O = (Z[k] - conj Z[M-k]) / 2i
    const { splitCos, splitSin } = this
    for (let k = 0; k <= half; k++) {
      const zr = re[k % half]!
      const zi = im[k % half]!
      const cr = re[(half - k) % half]!
      const ci = -im[(half - k) % half]!
      const er = (zr + cr) / 2
      const ei = (zi + ci) / 2
      const or = (zi - ci) / 2
      const oi = -(zr - cr) / 2
      const xr = er + splitCos[k]! * or - splitSin[k]! * oi
      const xi = ei + splitCos[k]! * oi + splitSin[k]! * or
      out[k] = xr * xr + xi * xi
    }
  }
}
