import type { FrontendParams } from '../api/model-card'
import { InputError } from '../errors'
import defaults from '../../../resources/frontend.json'

export type { FrontendParams }

/**
 * The log-Mel front end's default parameters. Written once in resources/frontend.json, read by this code and by
 * training/ (Python), and carried by every model card so the app never computes features other than the ones its
 * model was trained on: the app runs on the card's (card.frontend), this default serves only model-free tools.
 */
export const DEFAULT_FRONTEND: FrontendParams = defaults

/**
 * What this implementation computes. A model card asking for anything else is refused rather than run on
 * mismatched features; numeric fields (rate, sizes, Mel range, offset) may vary.
 */
const SUPPORTED = {
  window: 'hamming_periodic',
  center: false,
  mel_scale: 'slaney',
  mel_norm: 'slaney',
  power: 2,
  log: 'natural',
} as const

/** The numeric fields, which may vary (a card with a field of neither kind is refused: nothing here would read it). */
const NUMERIC = ['sample_rate', 'win_length', 'n_fft', 'hop_length', 'n_mels', 'fmin', 'fmax', 'log_offset'] as const

export function checkFrontend(params: FrontendParams, subject: string): FrontendParams {
  const unknown = Object.keys(params).filter((k) => !(k in SUPPORTED) && !(NUMERIC as readonly string[]).includes(k))
  if (unknown.length > 0) throw new InputError(subject, `front end fields ${unknown.join(', ')} are not known`)
  for (const [key, want] of Object.entries(SUPPORTED)) {
    const got = params[key as keyof FrontendParams]
    if (got !== want)
      throw new InputError(
        subject,
        `front end ${key}=${JSON.stringify(got)} is not supported (want ${JSON.stringify(want)})`,
      )
  }
  for (const key of NUMERIC) {
    if (!(typeof params[key] === 'number' && Number.isFinite(params[key])))
      throw new InputError(subject, `front end ${key}=${JSON.stringify(params[key])} must be a number`)
  }
  const { n_fft, win_length, hop_length, n_mels, fmin, fmax, sample_rate } = params
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0
  if (!Number.isInteger(Math.log2(n_fft)) || win_length !== n_fft || !positiveInt(hop_length) || !positiveInt(n_mels)) {
    throw new InputError(
      subject,
      'front end needs a power-of-two n_fft equal to win_length, and positive integer hop and n_mels',
    )
  }
  if (fmax > sample_rate / 2) throw new InputError(subject, `front end fmax ${fmax} Hz is above Nyquist`)
  if (!(fmin >= 0 && fmin < fmax)) throw new InputError(subject, `front end needs 0 <= fmin < fmax`)
  return params
}

/** Frames of an un-padded STFT: 1 + floor((n - n_fft) / hop), or 0 when the signal is shorter than one frame. */
export const frameCount = (samples: number, p: FrontendParams = DEFAULT_FRONTEND): number =>
  samples < p.n_fft ? 0 : 1 + Math.floor((samples - p.n_fft) / p.hop_length)
