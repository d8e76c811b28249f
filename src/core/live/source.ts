import type { Samples } from '../audio/types'

/** A live stream of mono sound at the source's own rate: a stethoscope through sox, a replayed file, a browser. */
export interface AudioSource {
  readonly label: string
  readonly sampleRate: number
  /** chunks as they arrive; ends when stopped or the file ends; throws DeviceLostError when the device goes away */
  chunks(): AsyncIterable<Samples>
  stop(): void
}

/** The capture device stopped delivering sound (unplugged, removed, its process died). */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError'
}

/** Level of a chunk: what the input meter shows, and whether the stethoscope's gain clips. */
export function levelOf(samples: Samples): { rms_db: number; peak: number; clipping: boolean } {
  let sum = 0
  let peak = 0
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!
    sum += v * v
    peak = Math.max(peak, Math.abs(v))
  }
  const rms = Math.sqrt(sum / Math.max(1, samples.length))
  // within one 16-bit step of full scale counts as clipped
  return { rms_db: rms > 0 ? 20 * Math.log10(rms) : -120, peak, clipping: peak >= 32767 / 32768 }
}
