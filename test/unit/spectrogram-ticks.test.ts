import { describe, expect, it } from 'vitest'
import { ticksIn, type HeartSounds } from '../../src/renderer/src/records'

/** Eight seconds at 75 beats a minute: S1 every 0.8 s from 0.2 s, S2 0.3 s after each. */
const SOUNDS: HeartSounds = {
  s1: Array.from({ length: 10 }, (_, i) => 0.2 + 0.8 * i),
  s2: Array.from({ length: 10 }, (_, i) => 0.5 + 0.8 * i),
}
/** the default front end's hop: 32 ms a column */
const HOP_S = 0.032

describe('S1 and S2 ticks along a spectrogram', () => {
  it('spreads a recorded site over its whole width (0 s .. frames x hop), alternating S1 and S2', () => {
    const durationS = 250 * HOP_S // 8 s
    const ticks = ticksIn(SOUNDS, 0, durationS)
    expect(ticks).toHaveLength(20)
    expect(ticks.map((t) => t.kind)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? 'S2' : 'S1')))
    expect(ticks[0]!.at).toBeCloseTo(0.2 / 8, 12)
    expect(ticks[1]!.at).toBeCloseTo(0.5 / 8, 12)
    expect(ticks.at(-1)!.at).toBeCloseTo(7.7 / 8, 12)
  })

  it('scrolls with the live view: only the onsets in its span, placed from its first column', () => {
    // the live spectrogram shows 100 columns from column 150: 4.8 s .. 8 s
    const ticks = ticksIn(SOUNDS, 150 * HOP_S, 100 * HOP_S)
    expect(ticks.map((t) => t.kind)).toEqual(['S1', 'S2', 'S1', 'S2', 'S1', 'S2', 'S1', 'S2'])
    expect(ticks[0]!.at).toBeCloseTo((5 - 4.8) / 3.2, 12)
    expect(ticks.at(-1)!.at).toBeCloseTo((7.7 - 4.8) / 3.2, 12)
    // a later view: the earliest ones have scrolled off
    expect(ticksIn(SOUNDS, 7.5, 3.2)).toEqual([{ kind: 'S2', at: expect.closeTo(0.2 / 3.2, 12) }])
  })

  it('ticks nothing before the view has a span (the front end not yet known: no seconds per column)', () => {
    expect(ticksIn(SOUNDS, 0, 0)).toEqual([])
    expect(ticksIn({ s1: [0], s2: [] }, 0, 0)).toEqual([])
  })
})
