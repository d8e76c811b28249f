import { describe, expect, it } from 'vitest'
import type { WindowVerdict } from '../../src/core/api/app'
import {
  EMPTY_FILTER,
  ageWarning,
  cleanPatient,
  findingText,
  liveHeartSounds,
  sessionFilter,
  ticksIn,
} from '../../src/renderer/src/records'

const window = (start_s: number, heart_sounds?: { s1: number[]; s2: number[] }) =>
  ({ start_s, end_s: start_s + 30, heart_sounds }) as WindowVerdict

describe('patient records in the UI', () => {
  it('warns for adults and young adults only (the model is paediatric)', () => {
    expect(ageWarning('adult')).toMatch(/children's recordings/)
    expect(ageWarning('young_adult')).toMatch(/less reliable for adults/)
    expect(ageWarning('child')).toBeUndefined()
    expect(ageWarning(undefined)).toBeUndefined()
  })

  it('words a finding with its Levine grade', () => {
    expect(findingText({ murmur: 'yes', grade: 2 })).toBe('Murmur heard, grade II/VI')
    expect(findingText({ murmur: 'no' })).toBe('Murmur not heard')
  })

  it('leaves empty fields out of a patient and of the list filter', () => {
    expect(cleanPatient({ id: ' MRN 7 ', name: ' ', birth_year: Number.NaN, age_group: 'infant' })).toEqual({
      id: 'MRN 7',
      age_group: 'infant',
    })
    expect(sessionFilter(EMPTY_FILTER)).toEqual({})
    expect(sessionFilter({ ...EMPTY_FILTER, query: ' apex ', verdict: 'withheld', to: '2026-12-03' })).toEqual({
      query: 'apex',
      verdict: 'withheld',
      to: '2026-12-03',
    })
  })

  it('merges overlapping live windows: each one replaces the onsets from its start, a withheld one keeps them', () => {
    const sounds = liveHeartSounds([
      window(0, { s1: [0.5, 1.5, 2.5], s2: [0.8, 1.8] }),
      window(2, { s1: [2.52, 3.5], s2: [2.8] }),
      window(4), // withheld: no onsets
    ])
    expect(sounds).toEqual({ s1: [0.5, 1.5, 2.52, 3.5], s2: [0.8, 1.8, 2.8] })
  })

  it('places the onsets inside the view across its width, in time order', () => {
    expect(ticksIn({ s1: [0.5, 3, 9], s2: [1.5] }, 0, 6)).toEqual([
      { kind: 'S1', at: 0.5 / 6 },
      { kind: 'S2', at: 1.5 / 6 },
      { kind: 'S1', at: 0.5 },
    ])
    expect(ticksIn({ s1: [1], s2: [] }, 2, 6)).toEqual([])
  })
})
