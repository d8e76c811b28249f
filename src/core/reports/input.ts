import { existsSync } from 'node:fs'
import type { Patient, SessionInfo, Site } from '../api/app'
import type { ModelCard } from '../api/model-card'
import { coverageWeightedAttention, onMelBins } from '../analysis/attention'
import { recordingFeatures } from '../analysis/recording'
import { isInputError } from '../errors'
import type { SessionRepository } from '../sessions/repository'
import type { SiteSpectrogram } from './site-image'

/** A site's sound as the report draws it: the picture's data and the waveform's envelope. */
export interface SiteRecording {
  spectrogram: SiteSpectrogram
  /** the lowest and highest sample in each of equal slices of the recording, left to right */
  waveform: { min: Float32Array; max: Float32Array }
}

/** Everything a report shows, read beforehand: renderExamReport touches no file. */
export interface ReportInput {
  session: SessionInfo
  /** the examination's patient as filed (none: the session names no patient, or one never filed) */
  patient?: Patient
  /** when the report was made (ISO 8601): printed, and the PDF's creation date */
  generated: string
  /** each site with a recording that can be drawn */
  recordings: Partial<Record<Site, SiteRecording>>
  /** each site whose recording could not be read or drawn, and why (a report still prints the rest) */
  unreadable: Partial<Record<Site, string>>
}

/** slices of the waveform's envelope: more than a printed line has dots across (A4 at 300 dpi is ~2000) */
const WAVEFORM_SLICES = 2400

function envelope(signal: Float32Array, slices: number): SiteRecording['waveform'] {
  const n = Math.max(1, Math.min(slices, signal.length))
  const min = new Float32Array(n)
  const max = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const [from, to] = [Math.floor((i * signal.length) / n), Math.floor(((i + 1) * signal.length) / n)]
    let [lo, hi] = [Infinity, -Infinity]
    for (let j = from; j < Math.max(to, from + 1) && j < signal.length; j++) {
      lo = Math.min(lo, signal[j]!)
      hi = Math.max(hi, signal[j]!)
    }
    ;[min[i], max[i]] = Number.isFinite(lo) ? [lo, hi] : [0, 0]
  }
  return { min, max }
}

/** One site's picture and waveform from its WAV, with the card's front end (an InputError: nothing to draw). */
async function siteRecording(
  path: string,
  record: SessionInfo['sites'][number],
  card: ModelCard,
): Promise<SiteRecording> {
  const { frontend } = card
  const features = await recordingFeatures(path, frontend)
  // where the model looked over the whole site: its windows' maps, each frame their mean (as the Review shows it)
  const placed = record.windows.map((w) => ({ ...w.attention, first_frame: w.first_frame, frames: w.frames }))
  const attention = coverageWeightedAttention(placed, features.frames)
  return {
    spectrogram: {
      frames: features.frames,
      n_mels: features.nMels,
      data: features.data,
      band_hz: [frontend.fmin, frontend.fmax],
      hop_s: frontend.hop_length / frontend.sample_rate,
      centre_s: frontend.n_fft / 2 / frontend.sample_rate,
      duration_s: features.signal.length / frontend.sample_rate,
      attention: attention ? onMelBins(attention, features.nMels) : null,
      heart_sounds: record.heart_sounds,
    },
    waveform: envelope(features.signal, WAVEFORM_SLICES),
  }
}

/** What the report of one examination shows: the session, its patient and each recorded site's sound. */
export async function examReportInput(
  repository: SessionRepository,
  sessionId: string,
  card: ModelCard,
  now: Date = new Date(),
): Promise<ReportInput> {
  const session = await repository.get(sessionId)
  const patient = session.patient ? await repository.patient(session.patient) : undefined
  const recordings: ReportInput['recordings'] = {}
  const unreadable: ReportInput['unreadable'] = {}
  for (const record of session.sites) {
    const path = repository.sitePath(sessionId, record.site)
    if (record.duration_s <= 0 || !existsSync(path)) continue
    try {
      recordings[record.site] = await siteRecording(path, record, card)
    } catch (error) {
      if (!isInputError(error)) throw error
      unreadable[record.site] = error.problem // too short, or a damaged file: said, and the rest still reported
    }
  }
  return { session, patient, generated: now.toISOString(), recordings, unreadable }
}

/** The PNG artefact's data: one site's picture (no waveform). */
export async function siteSpectrogram(
  repository: SessionRepository,
  sessionId: string,
  site: Site,
  card: ModelCard,
): Promise<SiteSpectrogram | undefined> {
  const session = await repository.get(sessionId)
  const record = session.sites.find((s) => s.site === site)
  const path = repository.sitePath(sessionId, site)
  if (!record || record.duration_s <= 0 || !existsSync(path)) return undefined
  return (await siteRecording(path, record, card)).spectrogram
}
