import type { HeartState } from './annotation'
import type { FrameAttention } from './attention'
import type { Segmentation } from './segmentation'

/** Each heart state's key in the JSON */
const PHASE_KEY = { S1: 's1', systole: 'systole', S2: 's2', diastole: 'diastole' } as const satisfies {
  [S in HeartState]: Lowercase<S>
}
type PhaseKey = (typeof PHASE_KEY)[HeartState]
export type PhaseShares = Record<PhaseKey, number>

/**
 * Where in the heart cycle the attention fell: the share of the attention (summed over frequency, each frame at
 * its centre `frameCentre(f)` s) in S1, systole, S2 and diastole, and the share of the segmented time each phase
 * takes (what attention spread evenly would give). Frames outside every segment (the cut edges) are left out.
 * Null when no frame falls in a segment or the map carries no attention there.
 */
export function attentionByPhase(
  attention: FrameAttention,
  segmentation: Segmentation,
  frameCentre: (frame: number) => number,
): { attention: PhaseShares; time: PhaseShares } | null {
  const mass: PhaseShares = { s1: 0, systole: 0, s2: 0, diastole: 0 }
  const time: PhaseShares = { ...mass }
  const segments = segmentation.segments
  let s = 0
  for (let frame = 0; frame < attention.frames; frame++) {
    const t = frameCentre(frame)
    while (s < segments.length && segments[s]!.end_s <= t) s++
    const segment = segments[s]
    if (!segment || segment.start_s > t) continue
    const state = PHASE_KEY[segment.state]
    let a = 0
    for (let f = 0; f < attention.freq; f++) a += attention.data[frame * attention.freq + f]!
    mass[state] += a
    time[state]++
  }
  const shares = (v: PhaseShares) => {
    const total = Object.values(v).reduce((a, b) => a + b, 0)
    return total > 0 ? (Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x / total])) as PhaseShares) : null
  }
  const attentionShares = shares(mass)
  const timeShares = shares(time)
  return attentionShares && timeShares && { attention: attentionShares, time: timeShares }
}

/**
 * How much more attention a phase draws per second than even spreading would give it, over which a murmur's
 * attention is called systolic or diastolic: systole and diastole differ in length (diastole is ~60 % of a cycle
 * at rest, less in a fast child's heart), so raw shares would favour diastole; comparing attention per second of
 * each, the winner must draw half again as much as the other, or the word is left out (the model did not choose).
 * Measured (scripts/evaluate-attention-phase.ts, CirCor's 425 audible murmurs of one annotated timing): the CNN's
 * attention cells span 16 frames (0.51 s), about a heart cycle, so systole's attention per second is within 5 % of
 * diastole's (deciles 0.95-1.02) and the word never appears; forcing it agrees with the annotation 0.34 of the time,
 * chance. A model whose attention resolves frames (the recurrent ones: 1-frame cells) can earn the word.
 */
export const TIMING_DOMINANCE = 1.5

export function murmurTiming(phases: { attention: PhaseShares; time: PhaseShares }): 'systolic' | 'diastolic' | null {
  const density = (k: 'systole' | 'diastole') => (phases.time[k] > 0 ? phases.attention[k] / phases.time[k] : 0)
  const sys = density('systole')
  const dia = density('diastole')
  if (sys >= TIMING_DOMINANCE * dia && sys > 0) return 'systolic'
  if (dia >= TIMING_DOMINANCE * sys && dia > 0) return 'diastolic'
  return null
}
