import { describe, expect, it } from 'vitest'
import { LogBatch } from '../../src/core/dsp/fast-log'

/** Positive doubles across the normal range, dense around the log-Mel energies (1e-10 offset up to ~1e4). */
function values(): Float64Array {
  let state = 12345
  const uniform = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state / 2 ** 32
  }
  const spread = Array.from({ length: 20000 }, () => 1e-10 + Math.exp(uniform() * 34 - 25))
  const octaveEdges = [1, 2, 0.5, 1e-10, 1 - 2 ** -53, 1 + 2 ** -52, 2 - 2 ** -52, 2 ** -1022, Number.MAX_VALUE]
  const tableEdges = Array.from({ length: 129 }, (_, i) => 1 + i / 128).flatMap((c) => [c, c * (1 - 2 ** -52)])
  return Float64Array.from([...spread, ...octaveEdges, ...tableEdges])
}

describe('LogBatch (natural log from the bits, a table and a short series)', () => {
  it('is within 4e-15 of Math.log over the normal range', () => {
    const x = values()
    // a float32 output would hide the error: a float64 one shows it
    const batch = new LogBatch(x.length)
    batch.values.set(x)
    const got = new Float64Array(x.length)
    batch.writeLogs(got, 0)
    let worst = 0
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(got[i]! - Math.log(x[i]!)))
    expect(worst).toBeLessThan(4e-15)
  })

  it('writes its logs at the offset and nothing else', () => {
    const out = new Float32Array(6).fill(7)
    const batch = new LogBatch(3)
    batch.values.set([1, Math.E, Math.E ** 2])
    batch.writeLogs(out, 2)
    expect(Array.from(out)).toEqual([7, 7, 0, 1, 2, 7])
  })
})
