import { readFileSync } from 'node:fs'
import { InputError } from '../errors'

/**
 * CirCor's heart-cycle annotations (<root>/segmentation/<stem>.tsv): rows of start_s, end_s, state with 1 = S1,
 * 2 = systole, 3 = S2, 4 = diastole and 0 = not annotated. Here states are 0-based: HEART_STATES[state - 1].
 */
export const HEART_STATES = ['S1', 'systole', 'S2', 'diastole'] as const
export type HeartState = (typeof HEART_STATES)[number]

export interface AnnotatedSegment {
  start_s: number
  end_s: number
  /** CirCor's code: 0 = not annotated, 1-4 = HEART_STATES[code - 1] */
  code: number
}

export function parseAnnotation(text: string, file: string): AnnotatedSegment[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const [start, end, code] = line.trim().split(/\s+/).map(Number)
      if (![start, end, code].every(Number.isFinite) || !Number.isInteger(code) || code! < 0 || code! > 4) {
        throw new InputError(file, `line ${i + 1} is not "start end state(0-4)"`)
      }
      return { start_s: start!, end_s: end!, code: code! }
    })
}

export function readAnnotation(path: string): AnnotatedSegment[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new InputError(path, 'annotation not found')
  }
  return parseAnnotation(text, path)
}

/** Onset times of the annotated segments of one state (code 1-4). */
export const annotatedOnsets = (segments: AnnotatedSegment[], code: number): number[] =>
  segments.filter((s) => s.code === code).map((s) => s.start_s)

/** The rate from annotated S1 onsets: 60 / the mean interval between S1 onsets with no unannotated stretch between. */
export function annotatedRate(segments: AnnotatedSegment[]): number | null {
  const intervals: number[] = []
  let lastS1: number | undefined
  for (const s of segments) {
    if (s.code === 0) lastS1 = undefined
    else if (s.code === 1) {
      if (lastS1 !== undefined) intervals.push(s.start_s - lastS1)
      lastS1 = s.start_s
    }
  }
  if (intervals.length === 0) return null
  return 60 / (intervals.reduce((a, b) => a + b, 0) / intervals.length)
}

export interface OnsetMatch {
  tp: number
  fp: number
  fn: number
}

/**
 * One-to-one matching of detected onsets to annotated ones within +-tolerance (nearest first, in time order). A
 * detection in a stretch nobody annotated (code 0, or outside the annotation) is neither right nor wrong: ignored.
 */
export function matchOnsets(
  detected: number[],
  segments: AnnotatedSegment[],
  code: number,
  tolerance: number,
): OnsetMatch {
  const truth = annotatedOnsets(segments, code)
  const annotated = segments.filter((s) => s.code !== 0)
  const judged = detected.filter((t) => annotated.some((s) => t >= s.start_s - tolerance && t <= s.end_s + tolerance))
  const used = new Uint8Array(truth.length)
  let tp = 0
  for (const t of judged) {
    let best = -1
    for (let i = 0; i < truth.length; i++) {
      if (used[i] || Math.abs(truth[i]! - t) > tolerance) continue
      if (best < 0 || Math.abs(truth[i]! - t) < Math.abs(truth[best]! - t)) best = i
    }
    if (best >= 0) {
      used[best] = 1
      tp++
    }
  }
  return { tp, fp: judged.length - tp, fn: truth.length - tp }
}

/** The annotation code at time t (0 outside every segment). */
export function codeAt(segments: AnnotatedSegment[], t: number): number {
  for (const s of segments) if (t >= s.start_s && t < s.end_s) return s.code
  return 0
}
