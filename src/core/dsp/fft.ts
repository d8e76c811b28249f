import FFT from 'fft.js'

/** Power spectrum |FFT(frame)|^2, bins 0..N/2, of a real frame of power-of-two size N (fft.js, radix-4). */
export class PowerSpectrum {
  readonly bins: number
  private readonly fft: FFT
  private readonly spectrum: number[]

  constructor(readonly size: number) {
    if (size < 4 || !Number.isInteger(Math.log2(size))) throw new RangeError(`FFT size ${size} is not a power of two`)
    this.bins = size / 2 + 1
    this.fft = new FFT(size)
    this.spectrum = this.fft.createComplexArray() as number[]
  }

  /** `frame` holds N windowed samples; `out` receives N/2 + 1 powers. */
  compute(frame: Float64Array, out: Float64Array): void {
    const s = this.spectrum
    this.fft.realTransform(s, frame)
    for (let k = 0; k < this.bins; k++) out[k] = s[2 * k]! * s[2 * k]! + s[2 * k + 1]! * s[2 * k + 1]!
  }
}
