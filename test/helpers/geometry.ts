import { writeFileSync } from 'node:fs'
import { wavBytes } from './wav'

/**
 * A geometry other than the defaults (resources/frontend.json and the training windowing) in every dimension the
 * views show: 40 Mel bins over 0-1000 Hz (not 64 over 0-2000), a 25 ms hop (100 of 4000 samples, not 32 ms) and
 * 400-frame windows (not 936). A tiny model built with it (tinyModel(OTHER_GEOMETRY)) proves that every consumer
 * reads its card: a literal left anywhere puts a tone at the wrong place.
 */
export const OTHER_GEOMETRY = {
  frontend: { n_mels: 40, fmax: 1000, hop_length: 100 },
  windowing: { window_frames: 400, hop_frames: 200, min_frames: 32 },
}
export const OTHER_HOP_S = 100 / 4000

/** A 4 kHz mono WAV of `seconds`, silent but for a tone of `hz` from `from` to `to` seconds. */
export function writeTone(path: string, { seconds, hz, from = 0, to = seconds }: ToneSpec): string {
  const rate = 4000
  const samples = Array.from({ length: seconds * rate }, (_, i) =>
    i >= from * rate && i < to * rate ? [0.5 * Math.sin((2 * Math.PI * hz * i) / rate)] : [0],
  )
  writeFileSync(path, wavBytes({ samples, sampleRate: rate }))
  return path
}

export interface ToneSpec {
  seconds: number
  hz: number
  from?: number
  to?: number
}
