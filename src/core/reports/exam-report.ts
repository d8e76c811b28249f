import { rgb } from 'pdf-lib'
import type { Patient, SessionInfo, SiteRecord } from '../api/app'
import { CLASSES, CLASS_LABELS, type Probabilities } from '../api/classes'
import { nearTie } from '../api/near-tie'
import {
  AGE_LABELS,
  CLASS_MEANING,
  DECISION_SUPPORT,
  DESCRIPTORS_NOTE,
  SESSION_STATUS_LABELS,
  SEX_LABELS,
  SITE_NAMES,
  ageWarning,
  descriptorLines,
  findingText,
} from '../api/wording'
import { withheldText } from '../analysis/quality'
import type { ReportInput, SiteRecording } from './input'
import { INK, MUTED, PageWriter, TRANSLITERATED, type Paper } from './pdf-layout'
import { drawSiteFigure, SITE_FIGURE_HEIGHT } from './site-figure'

/** The three classes' bar colours, as the app's probability bars show them (light to dark with severity). */
const CLASS_COLOURS = { normal: rgb(0.3, 0.62, 0.4), mild: rgb(0.9, 0.62, 0.2), moderate_severe: rgb(0.78, 0.24, 0.2) }

const percent = (p: number): string => `${(100 * p).toFixed(1)}%`

export const probabilityText = (p: Probabilities): string =>
  CLASSES.map((c) => `${CLASS_LABELS[c]} ${percent(p[c])}`).join(' · ')

/** The verdict as the report words it: a grade, "uncertain" between two, or why there is none. */
function verdictLine(verdict: SessionInfo['verdict'], probabilities: Probabilities | undefined, none: string): string {
  if (!verdict || !probabilities) return none
  const tie = nearTie(probabilities)
  if (tie) return `Uncertain: ${CLASS_LABELS[tie[0]]} or ${CLASS_LABELS[tie[1]]}`
  return CLASS_LABELS[verdict]
}

function siteNone(record: SiteRecord): string {
  if (record.status === 'skipped') return 'Skipped: not recorded'
  if (record.status === 'interrupted') return 'Interrupted: no verdict'
  if (record.status === 'pending') return 'Not recorded'
  if (record.quality && !record.quality.ok) return `Withheld: ${withheldText(record.quality)}`
  return 'No verdict: too short to grade'
}

/** Three labelled bars, one per class, `width` points wide in all. */
function probabilityBars(out: PageWriter, p: Probabilities): void {
  const size = 9
  const labelWidth = 96
  const barWidth = out.width - labelWidth - 50
  for (const c of CLASSES) {
    out.keep(14)
    const page = out.current
    const y = out.y - 11
    page.drawText(CLASS_LABELS[c], { x: out.left, y: y + 2, size, font: out.regular, color: INK })
    page.drawRectangle({ x: out.left + labelWidth, y, width: barWidth, height: 9, color: rgb(0.93, 0.93, 0.94) })
    page.drawRectangle({ x: out.left + labelWidth, y, width: barWidth * p[c], height: 9, color: CLASS_COLOURS[c] })
    page.drawText(percent(p[c]), { x: out.left + labelWidth + barWidth + 6, y: y + 2, size, font: out.bold })
    out.gap(14)
  }
}

function ageAt(patient: Patient, created: string): string | undefined {
  if (patient.birth_year === undefined) return undefined
  const years = new Date(created).getUTCFullYear() - patient.birth_year
  return `born ${patient.birth_year} (about ${years} at the exam)`
}

function patientBlock(out: PageWriter, session: SessionInfo, patient: Patient | undefined): void {
  const id = session.patient
  out.line('Patient', { size: 12, bold: true })
  const age = patient && [patient.age_group && AGE_LABELS[patient.age_group], ageAt(patient, session.created)]
  out.fields(
    [
      ['Patient ID', id || '(none given)'],
      ['Name', patient?.name ?? '(not filed)'],
      ['Age', age?.filter(Boolean).join(', ') || '(not filed)'],
      ['Sex', patient?.sex ? SEX_LABELS[patient.sex] : '(not filed)'],
    ],
    4,
  )
  const warning = ageWarning(patient?.age_group)
  if (warning) out.paragraph(warning, { size: 9, colour: rgb(0.6, 0.3, 0) })
}

function examBlock(out: PageWriter, session: SessionInfo, generated: string): void {
  out.gap(4)
  out.line('Examination', { size: 12, bold: true })
  const model = session.model
  out.fields(
    [
      ['Recorded', dateTime(session.created)],
      ['Status', SESSION_STATUS_LABELS[session.status]],
      ['Device', session.device ?? (session.source.kind === 'file' ? 'imported recording' : session.source.kind)],
      ['Examination ID', session.id],
      // name and version apart: a long name (an int8 twin's) must never cut the version off
      ['Model', model.name],
      ['Model version', model.version ?? '(not filed)'],
      ['Model sha256', model.sha256.slice(0, 16)],
      ['Site rule', model.aggregation],
      ['Report made', dateTime(generated)],
    ],
    4,
  )
}

function verdictBlock(out: PageWriter, session: SessionInfo): void {
  out.gap(4)
  out.line('Patient verdict', { size: 12, bold: true })
  const none = 'No verdict: no site has a grade the model can stand behind'
  out.line(verdictLine(session.verdict, session.probabilities, none), { size: 14, bold: true })
  if (session.probabilities && session.verdict) {
    probabilityBars(out, session.probabilities)
    const tie = nearTie(session.probabilities)
    out.paragraph(
      tie
        ? `The model cannot tell ${CLASS_LABELS[tie[0]]} from ${CLASS_LABELS[tie[1]]} in this examination: listen again, or record longer.`
        : CLASS_MEANING[session.verdict],
      { size: 9 },
    )
    const used = session.sites.filter((s) => s.probabilities).map((s) => s.site)
    out.paragraph(`From the sites ${used.join(', ')} by the model card's rule (${session.model.aggregation}).`, {
      size: 9,
      colour: MUTED,
    })
  }
}

function clinicianBlock(out: PageWriter, session: SessionInfo): void {
  out.gap(4)
  out.line("Clinician's finding and notes", { size: 12, bold: true })
  const finding = session.finding
  out.paragraph(finding ? findingText(finding) + (finding.note ? `: ${finding.note}` : '') : 'No finding recorded.', {
    size: 10,
  })
  for (const site of session.sites) {
    if (site.finding)
      out.paragraph(`${site.site}: ${findingText(site.finding)}${site.finding.note ? `: ${site.finding.note}` : ''}`, {
        size: 9,
      })
  }
  if (session.notes.trim()) for (const line of session.notes.split(/\r?\n/)) out.paragraph(line, { size: 9 })
}

/**
 * The site's lines of text, in order: verdict, probabilities, the murmur's descriptors, heart rate, quality, timing,
 * windows.
 */
function siteLines(record: SiteRecord, problem: string | undefined): string[] {
  const lines = [
    `${record.site} (${SITE_NAMES[record.site]}): ${verdictLine(record.verdict, record.probabilities, siteNone(record))}`,
  ]
  if (record.probabilities) lines.push(`Probabilities: ${probabilityText(record.probabilities)}`)
  const descriptors = descriptorLines(record.descriptors ?? {})
  if (descriptors.length > 0) {
    lines.push(`Murmur descriptors: ${descriptors.map((d) => d.text).join(' · ')}`, DESCRIPTORS_NOTE)
  }
  const facts = [`${record.duration_s.toFixed(1)} s recorded`]
  if (record.heart_rate_bpm !== undefined)
    facts.push(
      record.heart_rate_bpm === null ? 'heart rate not found' : `heart rate ${Math.round(record.heart_rate_bpm)} bpm`,
    )
  if (record.quality)
    facts.push(`signal quality ${record.quality.score.toFixed(2)}${record.quality.ok ? '' : ' (refused)'}`)
  if (record.murmur_timing) facts.push(`murmur ${record.murmur_timing}`)
  lines.push(facts.join(' · '))
  const windows = record.verdict_windows ?? []
  if (windows.length > 0)
    lines.push(
      `Windows behind the verdict (${windows.length}): ${windows.map((w) => `${w.start_s.toFixed(1)}–${w.end_s.toFixed(1)} s`).join(', ')}`,
    )
  if (problem) lines.push(`Recording not drawn: ${problem}`)
  return lines
}

async function siteBlock(
  out: PageWriter,
  record: SiteRecord,
  recording: SiteRecording | undefined,
  problem?: string,
): Promise<void> {
  const [heading, ...rest] = siteLines(record, problem)
  const textHeight = 16 + rest.reduce((h, line) => h + out.paragraphHeight(line, { size: 9 }), 0)
  out.keep(textHeight + (recording ? SITE_FIGURE_HEIGHT : 0) + 8) // a site's text and figure stay on one page
  out.rule()
  out.line(heading!, { size: 11, bold: true })
  for (const line of rest) out.paragraph(line, { size: 9 })
  if (recording) await drawSiteFigure(out, record, recording)
  out.gap(8)
}

const dateTime = (iso: string): string => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/**
 * An examination's report as a PDF: patient, examination and model, the patient verdict with its three
 * probabilities, the clinician's finding and notes, then each site with its verdict, the windows behind it, heart
 * rate and signal quality, and its spectrogram with the attention and heart sounds over it above its waveform.
 * Every page carries the decision-support disclaimer and its number. Reads no file: `input` holds everything.
 */
export async function renderExamReport(input: ReportInput, paper: Paper = 'a4'): Promise<Uint8Array> {
  const out = await PageWriter.create(paper)
  const { session } = input
  out.doc.setTitle(`Phonoscope examination ${session.id}`)
  out.doc.setSubject(`Heart sound examination of patient ${out.printable(session.patient)}`)
  out.doc.setCreator('Phonoscope')
  out.doc.setProducer('Phonoscope (pdf-lib)')
  out.line('Phonoscope examination report', { size: 18, bold: true })
  out.gap(4)
  patientBlock(out, session, input.patient)
  examBlock(out, session, input.generated)
  verdictBlock(out, session)
  clinicianBlock(out, session)
  out.gap(6)
  out.line('Sites', { size: 12, bold: true })
  for (const record of session.sites)
    await siteBlock(out, record, input.recordings[record.site], input.unreadable[record.site])
  const footer = [
    DECISION_SUPPORT,
    `Examination ${session.id} · patient ${out.printable(session.patient) || '(none)'}`,
    ...(out.transliterated
      ? [`${TRANSLITERATED} spelt in Latin letters for printing; the record keeps the original.`]
      : []),
  ]
  return out.finish(footer, new Date(input.generated))
}
