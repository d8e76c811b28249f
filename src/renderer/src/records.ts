import type { Patient, SessionFilter, WindowVerdict } from '@core/api/app'
import type { ClassName } from '@core/api/classes'

/** Patient records as the UI edits and filters them (their wording: @core/api/wording, shared with the report). */
export { AGE_LABELS, SEX_LABELS, MURMUR_LABELS, GRADES, ageWarning, findingText } from '@core/api/wording'

/** A patient with its empty fields left out (the contract's optional fields are absent, never empty). */
export function cleanPatient(patient: Patient): Patient {
  const clean: Patient = { id: patient.id.trim() }
  if (patient.name?.trim()) clean.name = patient.name.trim()
  if (typeof patient.birth_year === 'number' && Number.isFinite(patient.birth_year))
    clean.birth_year = patient.birth_year
  if (patient.age_group) clean.age_group = patient.age_group
  if (patient.sex) clean.sex = patient.sex
  return clean
}

/** What the list's filter form holds: every field a string, '' for "any". */
export interface FilterForm {
  query: string
  patient: string
  from: string
  to: string
  verdict: ClassName | 'withheld' | ''
}

export const EMPTY_FILTER: FilterForm = { query: '', patient: '', from: '', to: '', verdict: '' }

/** sessions.list's filter from the form: the fields left empty are not sent. */
export function sessionFilter(form: FilterForm): SessionFilter {
  const filter: SessionFilter = {}
  if (form.query.trim()) filter.query = form.query.trim()
  if (form.patient) filter.patient = form.patient
  if (form.from) filter.from = form.from
  if (form.to) filter.to = form.to
  if (form.verdict) filter.verdict = form.verdict
  return filter
}

export interface HeartSounds {
  s1: number[]
  s2: number[]
}

/**
 * The S1 and S2 onsets of a site's live windows, as one list: windows overlap, so each window's onsets replace
 * what earlier windows found from its start on. A withheld window (none found) leaves the earlier ones standing.
 */
export function liveHeartSounds(windows: readonly WindowVerdict[]): HeartSounds {
  let s1: number[] = []
  let s2: number[] = []
  for (const w of windows) {
    if (!w.heart_sounds) continue
    s1 = [...s1.filter((t) => t < w.start_s), ...w.heart_sounds.s1]
    s2 = [...s2.filter((t) => t < w.start_s), ...w.heart_sounds.s2]
  }
  return { s1, s2 }
}

/**
 * The onsets inside startS..startS + spanS, each with where it falls across the plot (0..1): the time axis's own
 * mapping, which every plot of the site's time (waveform, spectrograms) shares. No span yet (a live spectrogram before
 * its front end is known): none.
 */
export function ticksIn(sounds: HeartSounds, startS: number, spanS: number): { kind: 'S1' | 'S2'; at: number }[] {
  if (!(spanS > 0)) return []
  const within = (kind: 'S1' | 'S2', onsets: number[]) =>
    onsets.filter((t) => t >= startS && t <= startS + spanS).map((t) => ({ kind, at: (t - startS) / spanS }))
  return [...within('S1', sounds.s1), ...within('S2', sounds.s2)].sort((a, b) => a.at - b.at)
}
