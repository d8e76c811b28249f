import type { ModelCard } from '../api/model-card'
import { classifyFeatures, type Inferer, type RecordingResult } from './classify'
import { keptRecordingFeatures } from './recording'

/** A recording imported from one decode: its lossless copy's sha256, its rate and, when admitted, its result. */
export interface KeptRecording {
  sha256: string
  sampleRate: number
  /** absent when `admit` turned it away (the store holds that audio already) */
  result?: RecordingResult
}

/** Whether a recording whose copy has this sha256 goes on to be classified (false: the store has it already). */
export type Admit = (sha256: string) => boolean | Promise<boolean>

/**
 * Decodes `path` once into its features and its lossless copy `wav`, asks `admit` with the copy's sha256, and
 * classifies the admitted ones as `classify` would (classifyFeatures): what import does for each recording, in a
 * RecordingPool worker or on the caller's thread alike.
 */
export async function keepAndClassify(
  path: string,
  wav: string,
  card: ModelCard,
  inferer: Inferer,
  admit: Admit,
  hopFrames?: number,
): Promise<KeptRecording> {
  const { features, sha256 } = await keptRecordingFeatures(path, wav, card.frontend)
  const kept = { sha256, sampleRate: features.sampleRate }
  if (!(await admit(sha256))) return kept
  return { ...kept, result: await classifyFeatures(features, card, inferer, hopFrames) }
}
