import { describe, expect, it } from 'vitest'
import { PowerSpectrum } from '../../src/core/dsp/fft'
import { hammingPeriodic, LogMelStream } from '../../src/core/dsp/logmel'
import { melFilterbank } from '../../src/core/dsp/mel'
import { DEFAULT_FRONTEND, type FrontendParams } from '../../src/core/dsp/params'

/** |DFT(x)|^2 for bins 0..N/2, summed term by term: the definition the FFT must reach. */
function naivePower(x: Float64Array): Float64Array {
  const n = x.length
  return Float64Array.from({ length: n / 2 + 1 }, (_, k) => {
    let [re, im] = [0, 0]
    for (let t = 0; t < n; t++) {
      re += x[t]! * Math.cos((2 * Math.PI * k * t) / n)
      im -= x[t]! * Math.sin((2 * Math.PI * k * t) / n)
    }
    return re * re + im * im
  })
}

/** A reproducible signal with content in every bin (a small linear congruential generator). */
function noise(length: number, seed: number): Float64Array {
  let state = seed
  return Float64Array.from({ length }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state / 2 ** 31 - 1
  })
}

/** The largest error relative to the spectrum's peak (bins far below it carry only rounding). */
function worstRelative(got: Float64Array, want: Float64Array): number {
  const peak = Math.max(...want)
  return Math.max(...want.map((w, k) => Math.abs(got[k]! - w) / peak))
}

describe('PowerSpectrum (real FFT via a half-size complex FFT)', () => {
  it.each([8, 16, 32, 64, 128, 256, 512, 1024])('equals a direct DFT at N = %i (both pass orders)', (n) => {
    const x = noise(n, n)
    const got = new Float64Array(n / 2 + 1)
    new PowerSpectrum(n).compute(x, got)
    expect(worstRelative(got, naivePower(x))).toBeLessThan(1e-12)
  })

  it('reads a windowed frame at an offset exactly as a windowed copy', () => {
    const n = 256
    const samples = noise(1000, 7)
    const window = hammingPeriodic(n)
    const spectrum = new PowerSpectrum(n)
    const [direct, copied] = [new Float64Array(n / 2 + 1), new Float64Array(n / 2 + 1)]
    spectrum.computeWindowed(samples, 300, window, direct)
    spectrum.compute(
      Float64Array.from(window, (w, i) => samples[300 + i]! * w),
      copied,
    )
    expect(direct).toEqual(copied)
  })

  it('puts a pure tone in its bin and nowhere else', () => {
    const n = 64
    const x = Float64Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * 5 * t) / n))
    const got = new Float64Array(n / 2 + 1)
    new PowerSpectrum(n).compute(x, got)
    expect(got[5]).toBeCloseTo((n / 2) ** 2, 9)
    got.forEach((p, k) => k !== 5 && expect(p).toBeLessThan(1e-20))
  })

  it('refuses sizes that are not powers of two of at least 8', () => {
    for (const n of [0, 4, 100, 257]) expect(() => new PowerSpectrum(n)).toThrow(RangeError)
  })
})

/** log(melW @ |DFT|^2 + offset) frame by frame: a direct DFT and a dense, filter-by-filter product. */
function referenceLogMel(x: Float64Array, p: FrontendParams): number[] {
  const window = hammingPeriodic(p.n_fft)
  const filters = melFilterbank(p)
  const out: number[] = []
  for (let start = 0; start + p.n_fft <= x.length; start += p.hop_length) {
    const power = naivePower(Float64Array.from(window, (w, i) => x[start + i]! * w))
    for (const { first, weights } of filters) {
      const energy = weights.reduce((sum, w, j) => sum + w * power[first + j]!, 0)
      out.push(Math.fround(Math.log(energy + p.log_offset)))
    }
  }
  return out
}

describe('LogMelStream = direct DFT + dense Mel product', () => {
  const cases: [string, FrontendParams][] = [
    ['the default front end', DEFAULT_FRONTEND],
    // more bands than bins at the bottom: 8 filters weigh no bin, so the pass skips them
    ['narrow bands (empty filters)', { ...DEFAULT_FRONTEND, n_fft: 64, win_length: 64, hop_length: 32, n_mels: 64 }],
    ['one band narrower than a bin (no bin at all)', { ...DEFAULT_FRONTEND, n_mels: 1, fmin: 1000, fmax: 1001 }],
    ['a band below Nyquist', { ...DEFAULT_FRONTEND, n_mels: 20, fmin: 100, fmax: 1200 }],
  ]
  it.each(cases)('%s', (_, p) => {
    const x = noise(4000, 3).map((v, i) => v * Math.exp(-i / 2000))
    const got = new LogMelStream(p).push(x).data
    const want = referenceLogMel(x, p)
    expect(got.length).toBe(want.length)
    let worst = 0
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!))
    expect(worst).toBeLessThan(1e-5)
  })
})
