import { randomBytes, randomInt } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import {
  SESSION_ID,
  SITES,
  validateCall,
  type Artefact,
  type CommandName,
  type Descriptor,
  type Descriptors,
  type Finding,
  type Patient,
  type SessionInfo,
  type SiteRecord,
  type SourceSpec,
  type WindowVerdict,
} from '../api/app'
import { CLASSES, type Probabilities } from '../api/classes'
import { sha256Of } from '../audio/lossless'
import { DESCRIPTOR_HEADS, type DescriptorName } from '../api/model-card'
import { InputError, isInputError } from '../errors'
import {
  boolean,
  integer,
  list,
  nullable,
  number,
  object,
  oneOf,
  optional,
  text,
  type Exact,
  type Schema,
} from '../api/schema'
import type { SessionRepository } from '../sessions/repository'
import { newSessionId } from '../sessions/store'

/**
 * An examination as one file that `phonoscope import` reads back on another machine: a POSIX tar (any tar tool lists
 * it) of bundle.json (the session record, its patient) and <site>.wav (each site's recording, the bytes on disk).
 * A bundle is untrusted input: entries are matched against a fixed list of names (never used as paths), sizes are
 * bounded, the JSON is checked against the contract's types and every WAV against its record's sha256.
 */
export const BUNDLE_MIME = 'application/vnd.phonoscope.bundle'
export const BUNDLE_EXTENSION = '.phono'
const FORMAT = 'phonoscope-bundle'
const VERSION = 1
const MANIFEST = 'bundle.json'
/** the largest bundle read (into memory): hours of 16-bit audio at 44.1 kHz over the five sites */
export const MAX_BUNDLE_BYTES = 1 << 30
/** the largest bundle.json: thousands of live windows with their attention maps */
const MAX_MANIFEST_BYTES = 64 << 20

export interface Bundle {
  session: SessionInfo
  patient?: Patient
  /** each site's recording: a 16-bit mono PCM WAV, as the repository keeps it */
  audio: Partial<Record<SiteRecord['site'], Uint8Array>>
}

/**
 * The examination as a bundle artefact. With `deidentify`: no name or birth year, a pseudonym for the patient id,
 * the date shifted by a random number of whole days (the session id, which embeds it, follows), and no free text
 * (notes, finding notes), file names, file paths or device names, any of which may identify someone.
 */
export async function exportBundle(
  repository: SessionRepository,
  session: string,
  { deidentify = false }: { deidentify?: boolean } = {},
): Promise<Artefact> {
  const info = await repository.get(session)
  if (info.status === 'recording' || info.sites.some((s) => s.status === 'recording')) {
    throw new InputError(`session ${session}`, 'is being recorded: stop it before exporting it', 'conflict')
  }
  const audio: Bundle['audio'] = {}
  for (const site of info.sites) {
    const path = repository.sitePath(session, site.site)
    if (!existsSync(path)) continue
    const bytes = new Uint8Array(await readFile(path))
    audio[site.site] = bytes
    // what the receiving store deduplicates by and the reader verifies the WAV against
    site.sha256 ??= sha256Of(bytes)
  }
  const patient = info.patient === '' ? undefined : await repository.patient(info.patient)
  const bundle = deidentify ? deidentified({ session: info, patient, audio }) : { session: info, patient, audio }
  return {
    kind: 'bundle',
    mime: BUNDLE_MIME,
    filename: `${bundle.session.id}${BUNDLE_EXTENSION}`,
    bytes: writeBundle(bundle),
  }
}

function deidentified({ session, patient, audio }: Bundle): Bundle {
  const pseudonym = `anon-${randomBytes(4).toString('hex')}`
  const shiftMs = randomInt(1, 366) * 86_400_000
  const created = new Date(Date.parse(session.created) - shiftMs)
  const withoutNote = (finding: Finding | undefined): Finding | undefined =>
    finding && { murmur: finding.murmur, ...(finding.grade !== undefined && { grade: finding.grade }) }
  const info: SessionInfo = {
    ...session,
    id: newSessionId(created),
    created: created.toISOString(),
    patient: session.patient === '' ? '' : pseudonym,
    source: anonymousSource(session.source),
    notes: '',
    finding: withoutNote(session.finding),
    sites: session.sites.map(({ imported_from: _, ...site }) => ({ ...site, finding: withoutNote(site.finding) })),
  }
  delete info.device
  if (!info.finding) delete info.finding
  for (const site of info.sites) if (!site.finding) delete site.finding
  const kept = patient && {
    id: pseudonym,
    ...(patient.age_group && { age_group: patient.age_group }),
    ...(patient.sex && { sex: patient.sex }),
  }
  return { session: info, ...(kept && { patient: kept }), audio }
}

/** The kind of source without its device name or file path (a device's name is required: a neutral one). */
function anonymousSource(source: SourceSpec): SourceSpec {
  if (source.kind === 'device') return { kind: 'device', device: 'stethoscope' }
  if (source.kind === 'file') return { kind: 'file', ...(source.speed !== undefined && { speed: source.speed }) }
  return source
}

export function writeBundle({ session, patient, audio }: Bundle): Uint8Array {
  const manifest = { format: FORMAT, version: VERSION, session, ...(patient && { patient }) }
  const entries: [string, Uint8Array][] = [[MANIFEST, new TextEncoder().encode(JSON.stringify(manifest))]]
  for (const site of SITES) if (audio[site]) entries.push([`${site}.wav`, audio[site]])
  return tar(entries)
}

/** Reads and checks a bundle file; every problem is an InputError naming the file, and nothing is written. */
export async function readBundle(path: string): Promise<Bundle> {
  const size = (await stat(path)).size
  if (size > MAX_BUNDLE_BYTES) throw new InputError(path, `bundle larger than ${MAX_BUNDLE_BYTES >> 20} MiB`)
  const entries = untar(new Uint8Array(await readFile(path)), path)
  const json = entries.get(MANIFEST)
  if (!json) throw new InputError(path, `not a Phonoscope bundle (no ${MANIFEST})`)
  if (json.length > MAX_MANIFEST_BYTES)
    throw new InputError(path, `${MANIFEST} larger than ${MAX_MANIFEST_BYTES >> 20} MiB`)
  let manifest: unknown
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json))
  } catch {
    throw new InputError(path, `${MANIFEST} is not valid JSON`)
  }
  try {
    manifestSchema.check(manifest, '')
  } catch (error) {
    if (isInputError(error)) throw new InputError(path, `${MANIFEST}: ${error.message}`)
    throw error
  }
  const { session, patient } = manifest as { session: SessionInfo; patient?: Patient }
  if (session.status === 'recording' || session.sites.some((s) => s.status === 'recording')) {
    throw new InputError(path, `${MANIFEST}: the session is marked as being recorded`)
  }
  if (new Set(session.sites.map((s) => s.site)).size !== session.sites.length) {
    throw new InputError(path, `${MANIFEST}: a site appears twice`)
  }
  if (patient && patient.id !== session.patient) {
    throw new InputError(path, `${MANIFEST}: the patient (${patient.id}) is not the session's (${session.patient})`)
  }
  const audio: Bundle['audio'] = {}
  for (const [name, bytes] of entries) {
    if (name === MANIFEST) continue
    const site = session.sites.find((s) => `${s.site}.wav` === name)
    if (!site) throw new InputError(path, `${name} belongs to no site of the session`)
    checkWav(bytes, site, `${path}: ${name}`)
    audio[site.site] = bytes
  }
  for (const site of session.sites) {
    if (site.sha256 !== undefined && !audio[site.site]) {
      throw new InputError(path, `site ${site.site} has a recording (sha256) but no ${site.site}.wav`)
    }
  }
  return { session, ...(patient && { patient }), audio }
}

/** A recording as the repository keeps it (16-bit mono PCM WAV at the site's rate), the one its record names. */
function checkWav(bytes: Uint8Array, site: SiteRecord, what: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tag = (at: number) => new TextDecoder('latin1').decode(bytes.subarray(at, at + 4))
  const pcm16Mono =
    bytes.length >= 44 &&
    tag(0) === 'RIFF' &&
    tag(8) === 'WAVE' &&
    tag(12) === 'fmt ' &&
    view.getUint16(20, true) === 1 &&
    view.getUint16(22, true) === 1 &&
    view.getUint16(34, true) === 16 &&
    tag(36) === 'data'
  if (!pcm16Mono) throw new InputError(what, 'not a 16-bit mono PCM WAV')
  const rate = view.getUint32(24, true)
  const dataBytes = view.getUint32(40, true)
  if (rate !== site.sample_rate)
    throw new InputError(what, `${rate} Hz, but its site record says ${site.sample_rate} Hz`)
  if (dataBytes !== bytes.length - 44) throw new InputError(what, 'its data size does not match the file')
  if (Math.abs(dataBytes / 2 / rate - site.duration_s) > 0.01) {
    throw new InputError(what, `${(dataBytes / 2 / rate).toFixed(3)} s, but its site record says ${site.duration_s} s`)
  }
  if (site.sha256 !== undefined && sha256Of(bytes) !== site.sha256) {
    throw new InputError(what, 'its sha256 is not the one its site record names (the file was altered)')
  }
}

const BLOCK = 512

/** A ustar archive of regular files (names under 100 characters), dated 1970 so it carries no date of its own. */
function tar(entries: [string, Uint8Array][]): Uint8Array {
  const size = entries.reduce((n, [, b]) => n + BLOCK + Math.ceil(b.length / BLOCK) * BLOCK, 2 * BLOCK)
  const out = new Uint8Array(size)
  const put = (at: number, value: string) => out.set(new TextEncoder().encode(value), at)
  let at = 0
  for (const [name, bytes] of entries) {
    put(at, name)
    put(at + 100, '0000644\0')
    put(at + 108, '0000000\0')
    put(at + 116, '0000000\0')
    put(at + 124, `${bytes.length.toString(8).padStart(11, '0')}\0`)
    put(at + 136, '00000000000\0')
    put(at + 148, '        ')
    put(at + 156, '0')
    put(at + 257, 'ustar\x0000')
    put(
      at + 148,
      `${checksum(out.subarray(at, at + BLOCK))
        .toString(8)
        .padStart(6, '0')}\0 `,
    )
    out.set(bytes, at + BLOCK)
    at += BLOCK + Math.ceil(bytes.length / BLOCK) * BLOCK
  }
  return out
}

const checksum = (header: Uint8Array): number =>
  header.reduce((sum, byte, i) => sum + (i >= 148 && i < 156 ? 32 : byte), 0)

/** The regular files of a ustar archive by name, refusing anything else (links, folders, paths, duplicates). */
function untar(bytes: Uint8Array, path: string): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>()
  const field = (header: Uint8Array, at: number, length: number): string => {
    const raw = header.subarray(at, at + length)
    const end = raw.indexOf(0)
    return new TextDecoder('latin1').decode(end < 0 ? raw : raw.subarray(0, end))
  }
  const allowed = new Set([MANIFEST, ...SITES.map((s) => `${s}.wav`)])
  let at = 0
  for (;;) {
    if (at + BLOCK > bytes.length) throw new InputError(path, 'not a Phonoscope bundle (truncated or not a tar file)')
    const header = bytes.subarray(at, at + BLOCK)
    if (header.every((b) => b === 0)) break
    if (field(header, 257, 5) !== 'ustar' || Number.parseInt(field(header, 148, 8).trim(), 8) !== checksum(header)) {
      throw new InputError(path, 'not a Phonoscope bundle (not a tar file, or a damaged one)')
    }
    const name = field(header, 0, 100)
    const type = field(header, 156, 1)
    if ((type !== '0' && type !== '') || field(header, 345, 155) !== '' || !allowed.has(name)) {
      throw new InputError(
        path,
        `unexpected entry ${JSON.stringify(name.slice(0, 100))} (a bundle holds only ${[...allowed].join(', ')})`,
      )
    }
    if (entries.has(name)) throw new InputError(path, `${name} appears twice`)
    const sizeText = field(header, 124, 12).trim()
    const size = /^[0-7]{1,11}$/.test(sizeText) ? Number.parseInt(sizeText, 8) : NaN
    const start = at + BLOCK
    if (!(size <= bytes.length - start)) throw new InputError(path, `${name}: its size runs past the end of the bundle`)
    entries.set(name, bytes.subarray(start, start + size))
    at = start + Math.ceil(size / BLOCK) * BLOCK
  }
  return entries
}

/**
 * A value the contract's own schema checks, as the parameter `key` of `command`: one definition each of a patient,
 * a finding, a source and a patient id for the commands and for bundles.
 */
function byContract<T>(command: CommandName, key: string, others: Record<string, unknown> = {}): Schema<T> {
  return {
    check(value, at) {
      if (value === null) throw new InputError(at, 'must not be null')
      try {
        validateCall(command, { ...others, [key]: value })
      } catch (error) {
        if (!isInputError(error)) throw error
        throw new InputError(`${at}${error.subject.slice(key.length)}`, error.problem)
      }
    },
  }
}

const patientId = byContract<string>('sessions.list', 'patient')
/** a session's patient id, or '' for none */
const patientOrNone: Schema<string> = { check: (value, at) => void (value === '' || patientId.check(value, at)) }
const finding = optional(byContract<Finding>('session.update', 'finding', { session: '20000101-000000-0000' }))
const site = oneOf(SITES)
const verdict = oneOf(CLASSES)
const probability = number(0, 1)
const probabilities: Exact<Probabilities> = object({
  normal: probability,
  mild: probability,
  moderate_severe: probability,
})
const seconds = number(0, 1e7)
const count = integer(0, 1e9)
const quality = object({ score: number(0, 1), ok: boolean(), reasons: list(text(40), 20) })
const heartRate = nullable(number(0, 1000))
const heartSounds = optional(object({ s1: list(seconds, 1e6), s2: list(seconds, 1e6) }))
const span = object({ index: count, start_s: seconds, end_s: seconds })

/** A head's probabilities by label: each a label of the head (a model may leave rare ones out), in [0, 1]. */
function labelProbabilities(label: Schema<string>): Schema<Record<string, number>> {
  return {
    check(value, at) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InputError(at, 'must be an object of label probabilities')
      }
      for (const [name, p] of Object.entries(value)) {
        label.check(name, `${at} (label ${JSON.stringify(name.slice(0, 40))})`)
        probability.check(p, `${at}.${name}`)
      }
    },
  }
}

/** One head's result on a recording: its label is one of those it gives a probability. */
function descriptor(labels: readonly string[]): Schema<Descriptor> {
  const label = oneOf(labels)
  const shape = object({ label, probabilities: labelProbabilities(label) })
  return {
    check(value, at) {
      shape.check(value, at)
      const given = value as Descriptor
      if (!Object.hasOwn(given.probabilities, given.label)) throw new InputError(`${at}.label`, 'has no probability')
    },
  }
}

/** A site's descriptors: each head at most once, by the names and labels a model card may have (DESCRIPTOR_HEADS). */
const descriptors: Schema<Descriptors> = object(
  Object.fromEntries(
    Object.entries(DESCRIPTOR_HEADS).map(([name, labels]) => [name, optional(descriptor(labels))]),
  ) as {
    [N in DescriptorName]: ReturnType<typeof optional<Descriptor>>
  },
)

const windowVerdict: Exact<WindowVerdict> = object({
  site,
  index: count,
  start_s: seconds,
  end_s: seconds,
  provisional: boolean(),
  probabilities,
  verdict: nullable(verdict),
  quality: optional(quality),
  heart_rate_bpm: optional(heartRate),
  heart_sounds: heartSounds,
  descriptors: optional(descriptors),
  attention: object({ time: count, freq: count, data: list(number(-1e6, 1e6), 1e7) }),
  first_frame: count,
  frames: count,
  provider: text(200),
  ms: number(0, 1e9),
})

const siteRecord: Exact<SiteRecord> = object({
  site,
  status: oneOf(['pending', 'recording', 'done', 'skipped', 'interrupted'] as const),
  duration_s: seconds,
  sample_rate: integer(0, 768000),
  windows: list(windowVerdict, 1e5),
  probabilities: optional(probabilities),
  verdict: optional(verdict),
  verdict_windows: optional(list(span, 1e5)),
  quality: optional(quality),
  heart_rate_bpm: optional(heartRate),
  heart_sounds: heartSounds,
  murmur_timing: optional(nullable(oneOf(['systolic', 'diastolic'] as const))),
  descriptors: optional(descriptors),
  sha256: optional(text(64, { test: /^[0-9a-f]{64}$/, meaning: 'not a sha256' })),
  imported_from: optional(text(255, { test: /^[^/\\]+$/, meaning: 'must be a file name, not a path' })),
  finding,
})

const sessionInfo: Exact<SessionInfo> = object({
  id: text(20, { test: SESSION_ID, meaning: 'not a session id' }),
  created: text(40, { test: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, meaning: 'not an ISO 8601 UTC time' }),
  patient: patientOrNone,
  status: oneOf(['recording', 'complete', 'incomplete', 'interrupted'] as const),
  source: byContract<SourceSpec>('session.start', 'source'),
  sites: list(siteRecord, SITES.length),
  probabilities: optional(probabilities),
  verdict: optional(verdict),
  model: object({
    name: text(200),
    sha256: text(64),
    aggregation: text(100),
    version: optional(text(100)),
  }),
  notes: text(10000),
  device: optional(text(256)),
  finding,
  dropped_windows: count,
  hop_s: optional(number(0, 60)),
})

const manifestSchema = object({
  format: oneOf([FORMAT] as const),
  version: integer(VERSION, VERSION),
  session: sessionInfo,
  patient: optional(byContract<Patient>('patient.save', 'patient')),
})
