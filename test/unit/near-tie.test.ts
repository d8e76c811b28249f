import { describe, expect, it } from 'vitest'
import { NEAR_TIE, nearTie } from '../../src/core/api/near-tie'

describe('a near tie between the two likeliest classes', () => {
  it('names the two likeliest classes when they are within NEAR_TIE, and none when one leads', () => {
    expect(nearTie({ normal: 0.15, mild: 0.44, moderate_severe: 0.41 })).toEqual(['mild', 'moderate_severe'])
    expect(nearTie({ normal: 0.5, mild: 0.5 - NEAR_TIE + 0.001, moderate_severe: 0.099 })).toEqual(['normal', 'mild'])
    expect(nearTie({ normal: 0.55, mild: 0.55 - NEAR_TIE - 0.001, moderate_severe: 0.001 })).toBeUndefined()
    expect(nearTie({ normal: 0.9, mild: 0.06, moderate_severe: 0.04 })).toBeUndefined()
    expect(nearTie(undefined)).toBeUndefined()
  })
})
