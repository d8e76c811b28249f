import type { CalibratedLevel, ModelCard } from '../api/model-card'

/**
 * Temperature scaling, as training/phonoscope_training/calibration.py apply_temperature: p' = p^(1/T) / sum p^(1/T),
 * computed as (p / max p)^(1/T) so no row underflows to all zeros. Keeps the order of the classes, so the argmax
 * (the verdict) never changes, only how sure it sounds.
 */
export function applyTemperature(p: ArrayLike<number>, temperature: number): number[] {
  const top = Math.max(...Array.from(p))
  const scaled = Array.from(p, (v) => (v / top) ** (1 / temperature))
  const sum = scaled.reduce((a, b) => a + b, 0)
  return scaled.map((v) => v / sum)
}

type Calibrated = Pick<ModelCard, 'calibration'>

/** p scaled by the card's temperature of a level (or its inverse); a card without calibration leaves p as it is. */
function scale(p: ArrayLike<number>, card: Calibrated, level: CalibratedLevel, invert = false): number[] {
  const t = card.calibration?.[level].temperature
  return t === undefined ? Array.from(p) : applyTemperature(p, invert ? 1 / t : t)
}

/**
 * The probabilities the app shows for a level: the model's recording probabilities (mean over windows), or the
 * patient rule's output, scaled by the card's temperature for that level.
 */
export const calibrate = (p: ArrayLike<number>, card: Calibrated, level: CalibratedLevel): number[] =>
  scale(p, card, level)

/**
 * Calibrated recording probabilities back on the model's scale (p proportional to p'^T: exact up to rounding), which
 * is what the patient rule takes (it was fitted on the model's probabilities).
 */
export const uncalibrateRecording = (p: ArrayLike<number>, card: Calibrated): number[] =>
  scale(p, card, 'recording', true)
