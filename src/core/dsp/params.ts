import type { FrontendParams } from '../api/model-card'
import { InputError } from '../errors'
import defaults from './frontend.json'

export type { FrontendParams }

/**
 * The log-Mel front end's parameters. Written once in frontend.json, read by this code and by training/ (Python), and
 * carried by every model card so the app never computes features other than the ones its model was trained on.
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

export function checkFrontend(params: FrontendParams, subject: string): FrontendParams {
  for (const [key, want] of Object.entries(SUPPORTED)) {
    const got = params[key as keyof FrontendParams]
    if (got !== want)
      throw new InputError(
        subject,
        `front end ${key}=${JSON.stringify(got)} is not supported (want ${JSON.stringify(want)})`,
      )
  }
  const { n_fft, win_length, hop_length, n_mels, fmax, sample_rate } = params
  if (!Number.isInteger(Math.log2(n_fft)) || win_length !== n_fft || hop_length <= 0 || n_mels <= 0) {
    throw new InputError(
      subject,
      'front end needs a power-of-two n_fft equal to win_length, and positive hop and n_mels',
    )
  }
  if (fmax > sample_rate / 2) throw new InputError(subject, `front end fmax ${fmax} Hz is above Nyquist`)
  return params
}

/** Frames of an un-padded STFT: 1 + floor((n - n_fft) / hop), or 0 when the signal is shorter than one frame. */
export const frameCount = (samples: number, p: FrontendParams = DEFAULT_FRONTEND): number =>
  samples < p.n_fft ? 0 : 1 + Math.floor((samples - p.n_fft) / p.hop_length)
