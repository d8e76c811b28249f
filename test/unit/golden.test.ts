import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { computeFeatures } from '../../src/core/dsp/features'
import { DEFAULT_FRONTEND } from '../../src/core/dsp/params'
import { FIXTURES } from '../helpers/paths'

interface GoldenCase {
  file: string
  kind: string
  frames: number
  n_mels: number
  expected: string
}

const GOLDEN = join(FIXTURES, 'golden')
const index = JSON.parse(readFileSync(join(GOLDEN, 'index.json'), 'utf8')) as { frontend: unknown; cases: GoldenCase[] }
/** The bound. Both sides compute in float64 and round to float32 once, so the reached error is ~1e-6. */
const TOLERANCE = 1e-3

describe('log-Mel front end = Python (librosa) golden vectors', () => {
  it('was generated with the parameters the TypeScript side uses', () => {
    expect(index.frontend).toEqual(DEFAULT_FRONTEND)
  })

  it.each(index.cases)('$file ($kind)', async (c) => {
    const got = await computeFeatures(join(GOLDEN, c.file))
    const want = new Float32Array(new Uint8Array(readFileSync(join(GOLDEN, c.expected))).buffer)
    expect([got.frames, got.nMels]).toEqual([c.frames, c.n_mels])
    let worst = 0
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want[i]!))
    expect(worst).toBeLessThanOrEqual(TOLERANCE)
    expect(worst).toBeLessThanOrEqual(1e-5) // what the implementation reaches; a regression shows here first
  })
})
