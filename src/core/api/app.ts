/**
 * The application contract: every command the UI can send and every event it receives, typed once and carried by
 * two transports, Electron IPC (src/preload) and HTTP + WebSocket (src/server). Nothing here knows which.
 * Values are plain JSON (numbers in arrays, not typed arrays) so both transports carry them unchanged.
 */
import { InputError, type WireError } from '../errors'
import { CLASSES, type ClassName, type Probabilities } from './classes'
import type { DescriptorName, ModelCard } from './model-card'
import {
  boolean,
  integer,
  list,
  nullable,
  number,
  object,
  oneOf,
  optional,
  tagged,
  text,
  type Exact,
  type Schema,
} from './schema'

/** The guided exam's four auscultation sites, in the order it visits them. */
export const EXAM_SITES = ['AV', 'PV', 'TV', 'MV'] as const
/** Every site a recording may come from: the exam's four and CirCor's fifth (Phc, any other place), for imports. */
export const SITES = [...EXAM_SITES, 'Phc'] as const
export type Site = (typeof SITES)[number]

/** A session id (store.newSessionId): a UTC stamp and four random characters, so it can never name a path. */
export const SESSION_ID = /^[0-9]{8}-[0-9]{6}-[a-z0-9]{4}$/

export interface DeviceInfo {
  /** what `source.device` takes: the capture device's name as the OS lists it */
  id: string
  label: string
  kind: 'capture' | 'file'
}

/** Where a session's sound comes from. */
export type SourceSpec =
  /** a stethoscope (or any capture device) through sox */
  | { kind: 'device'; device: string }
  /** a recording replayed at real time (speed 1), faster, or unpaced (speed 0), as if from a stethoscope; default: the sample */
  | { kind: 'file'; path?: string; speed?: number }
  /** the browser's microphone (server mode): PCM arrives over the WebSocket as 'audio' messages */
  | { kind: 'browser'; sampleRate: number }

export type SiteStatus = 'pending' | 'recording' | 'done' | 'skipped' | 'interrupted'
/** complete: finished with every site done or skipped; incomplete: finished with sites still to do (sitesToDo) */
export const SESSION_STATUSES = ['recording', 'complete', 'incomplete', 'interrupted'] as const
export type SessionStatus = (typeof SESSION_STATUSES)[number]

/** One descriptor head on a recording (analysis/descriptors.ts): its most probable label and each label's probability. */
export interface Descriptor {
  label: string
  probabilities: Record<string, number>
}
/** The murmur descriptors of a recording, by head (the model card's heads): only with a murmur verdict. */
export type Descriptors = Partial<Record<DescriptorName, Descriptor>>

export interface WindowVerdict {
  site: Site
  index: number
  start_s: number
  end_s: number
  /** true before a full window (936 frames) has been heard: a verdict on less sound than the model's window */
  provisional: boolean
  /** the model's, on the card's recording scale (calibration.ts); kept for a withheld window, never shown as a grade */
  probabilities: Probabilities
  /** null when the quality gate refused the window's sound, or it is shorter than the gate's minimum (too_short) */
  verdict: ClassName | null
  /** the gate's judgement of the window's sound (absent from windows recorded before live windows were gated) */
  quality?: { score: number; ok: boolean; reasons: string[] }
  /** from the heart-cycle segmentation of the window's sound; null when withheld or no rate was found */
  heart_rate_bpm?: number | null
  /** onsets of the S1 and S2 the segmentation found in the window, in seconds of the site (absent when withheld) */
  heart_sounds?: { s1: number[]; s2: number[] }
  /** the descriptor heads on this window; only with a murmur verdict, from a model whose card has heads */
  descriptors?: Descriptors
  /** the model's attention for its top class, [time'][freq'] row-major, sums to 1 */
  attention: { time: number; freq: number; data: number[] }
  /** first frame and frame count of the spectrogram the attention covers */
  first_frame: number
  frames: number
  provider: string
  ms: number
}

export interface SiteRecord {
  site: Site
  status: SiteStatus
  /** seconds of audio on disk, at sample_rate (the source's own rate, kept losslessly) */
  duration_s: number
  sample_rate: number
  windows: WindowVerdict[]
  /** the site's verdict: the mean of its final windows' probabilities (none while only provisional, or withheld) */
  probabilities?: Probabilities
  verdict?: ClassName
  /** the windows of the offline classify (the card's grid) whose mean is the verdict: those the gate passed */
  verdict_windows?: { index: number; start_s: number; end_s: number }[]
  /** the recording's signal quality once it ended; not ok: the verdict is withheld for these reasons (re-record) */
  quality?: { score: number; ok: boolean; reasons: string[] }
  /** from the heart-cycle segmentation of the whole recording; null when no rate could be found */
  heart_rate_bpm?: number | null
  /** onsets (s) of the S1 and S2 sounds the heart-cycle segmentation found in the whole recording */
  heart_sounds?: { s1: number[]; s2: number[] }
  /** a murmur verdict whose attention one heart phase dominates says which; null otherwise */
  murmur_timing?: 'systolic' | 'diastolic' | null
  /** the descriptor heads over the verdict's windows; only with a murmur verdict, from a model whose card has heads */
  descriptors?: Descriptors
  /** sha256 of the recording as imported or recorded (its WAV on disk); import never stores the same one twice */
  sha256?: string
  /** the file it was imported from (its name only) */
  imported_from?: string
  /** the clinician's own finding at this site */
  finding?: Finding
}

export interface SessionInfo {
  id: string
  created: string
  patient: string
  status: SessionStatus
  source: SourceSpec
  sites: SiteRecord[]
  /** the patient verdict over the sites, by the model card's rule */
  probabilities?: Probabilities
  verdict?: ClassName
  model: { name: string; sha256: string; aggregation: string; version?: string }
  /** the clinician's notes on the examination */
  notes: string
  /** the stethoscope or capture device it was recorded with (the source's name) */
  device?: string
  /** the clinician's own finding for the examination */
  finding?: Finding
  /** windows dropped because inference was slower than the hop (never queued without bound) */
  dropped_windows: number
  /** seconds between live verdicts (absent from sessions recorded before it was kept) */
  hop_s?: number
}

/** The sites of an examination not yet recorded nor skipped (pending, or cut off and not redone). */
export const sitesToDo = (info: Pick<SessionInfo, 'sites'>): Site[] =>
  info.sites.filter((s) => s.status === 'pending' || s.status === 'interrupted').map((s) => s.site)

/** The age groups of CirCor's patients (the model is paediatric: it was trained on children). */
export const AGE_GROUPS = ['neonate', 'infant', 'child', 'adolescent', 'young_adult', 'adult'] as const
export type AgeGroup = (typeof AGE_GROUPS)[number]
export const SEXES = ['female', 'male', 'other', 'unknown'] as const
export type Sex = (typeof SEXES)[number]

/** A patient as a clinic files them: the id (MRN) is the only required field. */
export interface Patient {
  id: string
  name?: string
  birth_year?: number
  age_group?: AgeGroup
  sex?: Sex
}

/** The clinician's own finding, kept beside the model's verdict (per site and per examination). */
export interface Finding {
  murmur: 'yes' | 'no' | 'unsure'
  /** Levine grade I-VI, when a murmur was heard */
  grade?: number
  note?: string
}

/** What sessions.list may filter by (all optional; dates as ISO 8601, inclusive). */
/** The examinations a list shows at first, and adds each time older ones are asked for (sessions.list's limit). */
export const LIST_PAGE = 100

export interface SessionFilter {
  patient?: string
  query?: string
  from?: string
  to?: string
  /** a patient verdict, or 'withheld' for exams without one */
  verdict?: ClassName | 'withheld'
  status?: SessionStatus
  /** a page: only exams older than this one (its id) */
  before?: string
  /** a page: at most this many, the newest that match (a list of thousands is read, sent and shown in pages) */
  limit?: number
}

/** What session.update may change; a finding set to null is removed. */
export interface SessionEdit {
  session: string
  patient?: string
  notes?: string
  device?: string
  finding?: Finding | null
  site_findings?: { site: Site; finding: Finding | null }[]
}

/** What the model runs on: the geometry every view of a spectrogram takes (never restated as literals). */
export interface ModelSummary {
  name: string
  version: string
  sha256: string
  provider: string
  /** the model card: its front end (sample rate, hop, Mel bins, band), windowing and patient rule */
  card: ModelCard
}

/** Every command: its params and result. A new command also needs its entry in COMMAND_SCHEMAS below. */
export interface Commands {
  'devices.list': { params: Record<string, never>; result: DeviceInfo[] }
  /** the model the back end runs and its front end's geometry */
  'model.info': { params: Record<string, never>; result: ModelSummary }
  'session.start': { params: { patient?: string; source: SourceSpec; hop_s?: number }; result: SessionInfo }
  'site.start': { params: { session: string; site: Site }; result: SessionInfo }
  'site.stop': { params: { session: string }; result: SessionInfo }
  'site.skip': { params: { session: string; site: Site }; result: SessionInfo }
  'session.stop': { params: { session: string }; result: SessionInfo }
  /** examinations, oldest first, each site as its summary (status, duration, verdict, probabilities, quality, sha256,
   * finding; session.get has the rest); filtered by patient id, by words in patient id, name or notes, date, verdict */
  'sessions.list': { params: SessionFilter; result: SessionInfo[] }
  /** the clinician edits an examination after the fact: its patient, notes, device, findings */
  'session.update': { params: SessionEdit; result: SessionInfo }
  /** deletes an examination and its audio for good; `confirm` must repeat its id */
  'session.delete': { params: { session: string; confirm: string }; result: { deleted: string } }
  'patients.list': { params: { query?: string }; result: Patient[] }
  /** creates or updates a patient (by id) */
  'patient.save': { params: { patient: Patient }; result: Patient }
  'session.get': { params: { session: string }; result: SessionInfo }
  /** the whole log-Mel of a recorded site, for review */
  'site.spectrogram': {
    params: { session: string; site: Site }
    result: { frames: number; n_mels: number; hop_s: number; data: number[] }
  }
}
export type CommandName = keyof Commands
export type Params<C extends CommandName> = Commands[C]['params']
export type Result<C extends CommandName> = Commands[C]['result']

const session = text(20, { test: SESSION_ID, meaning: 'not a session id' })
const site = oneOf(SITES)
const named = { test: /\S/, meaning: 'must not be empty' }
const source = tagged('kind', {
  device: { device: text(256, named) },
  file: { path: optional(text(4096, named)), speed: optional(number(0, 64)) },
  browser: { sampleRate: number(4000, 192000) },
})
/** a patient's id (MRN): printable, no path separators, so it may name a folder or file in an export */
const patientId = text(64, { test: /^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, meaning: 'letters, digits, space, . _ - only' })
const date = text(40, { test: /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, meaning: 'not an ISO 8601 date' })
const finding = object({
  murmur: oneOf(['yes', 'no', 'unsure'] as const),
  grade: optional(integer(1, 6)),
  note: optional(text(2000)),
})
const patientSchema = object({
  id: patientId,
  name: optional(text(200)),
  birth_year: optional(integer(1900, 2100)),
  age_group: optional(oneOf(AGE_GROUPS)),
  sex: optional(oneOf(SEXES)),
})
/** no params: {} (Record<string, never> in Commands) */
const none: Schema<Record<string, never>> = object({})

/**
 * What each command's params must be at run time, checked by validateCall before any handler runs, whichever
 * transport carried them. The compiler requires an entry for every command, of exactly its Params type.
 */
export const COMMAND_SCHEMAS: { readonly [C in CommandName]: Exact<Params<C>> } = {
  'devices.list': none,
  'model.info': none,
  'session.start': object({ patient: optional(text(200)), source, hop_s: optional(number(0.25, 60)) }),
  'site.start': object({ session, site }),
  'site.stop': object({ session }),
  'site.skip': object({ session, site }),
  'session.stop': object({ session }),
  'sessions.list': object({
    patient: optional(patientId),
    query: optional(text(200)),
    from: optional(date),
    to: optional(date),
    verdict: optional(oneOf([...CLASSES, 'withheld'] as const)),
    status: optional(oneOf(SESSION_STATUSES)),
    before: optional(session),
    limit: optional(integer(1, 100_000)),
  }),
  'session.update': object({
    session,
    patient: optional(patientId),
    notes: optional(text(10000)),
    device: optional(text(256)),
    finding: optional(nullable(finding)),
    site_findings: optional(list(object({ site, finding: nullable(finding) }), SITES.length)),
  }),
  'session.delete': object({ session, confirm: text(20) }),
  'patients.list': object({ query: optional(text(200)) }),
  'patient.save': object({ patient: patientSchema }),
  'session.get': object({ session }),
  'site.spectrogram': object({ session, site }),
}

/**
 * The contract's boundary check: `command` is one of Commands (an own key, never a prototype name such as
 * "constructor") and `params` (absent: {}) has exactly its keys, types and ranges. Throws an InputError naming the
 * parameter.
 */
export function validateCall(command: unknown, params: unknown): asserts command is CommandName {
  if (typeof command !== 'string') throw new InputError('command', 'must be a string')
  if (!Object.hasOwn(COMMAND_SCHEMAS, command)) {
    throw new InputError(`command ${JSON.stringify(command.slice(0, 40))}`, 'unknown')
  }
  COMMAND_SCHEMAS[command as CommandName].check(params ?? {}, '')
}

export interface Events {
  /** new spectrogram columns of the site being recorded, [frames][n_mels] row-major log-Mel */
  columns: { session: string; site: Site; first_frame: number; frames: number; n_mels: number; data: number[] }
  /** input level over the last chunk */
  level: { session: string; rms_db: number; peak: number; clipping: boolean }
  /** PCG waveform for display, decimated */
  waveform: { session: string; site: Site; rate: number; data: number[] }
  verdict: { session: string } & WindowVerdict
  /** the capture device went away or came back; recording up to that point is kept */
  device: { session: string; state: 'lost' | 'restored'; message: string }
  session: SessionInfo
  /** something failed outside any command (a capture that broke, a malformed message): its kind, as errors travel */
  error: WireError
}
export type EventName = keyof Events

/**
 * Every event, once: the transports forward exactly these. The compiler requires each event of Events here, so a new
 * event cannot be silently dropped by a transport.
 */
const EVENT_SET: { readonly [E in EventName]: true } = {
  columns: true,
  level: true,
  waveform: true,
  verdict: true,
  device: true,
  session: true,
  error: true,
}
export const EVENT_NAMES = Object.keys(EVENT_SET) as EventName[]

/**
 * Binary artefacts of an examination, one typed request for all transports (IPC: one channel; HTTP: GET
 * /api/artefact?kind=...&session=...). A new kind is one entry here, its schema below, and its producer in the back end.
 */
export interface ArtefactRequests {
  /** a site's recording, lossless as it was captured */
  wav: { session: string; site: Site }
  /** the examination's report */
  pdf: { session: string; paper?: 'a4' | 'letter' }
  /** a site's spectrogram with the attention overlay */
  png: { session: string; site: Site }
  /** the examination as one file (audio + JSON) that import reads back; deidentified: no name, shifted dates */
  bundle: { session: string; deidentify?: boolean }
}
export type ArtefactKind = keyof ArtefactRequests
export type ArtefactRequest = { [K in ArtefactKind]: { kind: K } & ArtefactRequests[K] }[ArtefactKind]

export interface Artefact {
  kind: ArtefactKind
  /** its media type (audio/wav, application/pdf, image/png, application/vnd.phonoscope.bundle) */
  mime: string
  /** a file name to save it under */
  filename: string
  bytes: Uint8Array
}

const ARTEFACT_SCHEMAS: { readonly [K in ArtefactKind]: Exact<ArtefactRequests[K]> } = {
  wav: object({ session, site }),
  pdf: object({ session, paper: optional(oneOf(['a4', 'letter'] as const)) }),
  png: object({ session, site }),
  bundle: object({ session, deidentify: optional(boolean()) }),
}

/** The artefact call's boundary check, as validateCall is the commands': kind, then exactly its keys. */
export function validateArtefact(request: unknown): asserts request is ArtefactRequest {
  if (typeof request !== 'object' || request === null) throw new InputError('artefact', 'must be an object')
  const { kind, ...rest } = request as { kind?: unknown }
  if (typeof kind !== 'string' || !Object.hasOwn(ARTEFACT_SCHEMAS, kind)) {
    throw new InputError('artefact kind', `must be one of ${Object.keys(ARTEFACT_SCHEMAS).join(', ')}`)
  }
  ARTEFACT_SCHEMAS[kind as ArtefactKind].check(rest, '')
}

/** What an import filed, kept and refused (the CLI's `phonoscope import` prints it; the UI shows it). */
export interface ImportSummary {
  /** patients with at least one examination imported */
  patients: number
  exams: number
  recordings: number
  /** recordings already in the store (the same audio), or given twice */
  skipped: number
  failed: { path: string; error: string }[]
  seconds: number
  /** the sessions filed, in order */
  sessions: string[]
}

/** A recording (WAV, FLAC) or bundle the UI uploads for import, under its own base name (CirCor names group sites). */
export interface ImportFile {
  name: string
  bytes: Uint8Array
}

/** What one importFiles call may take; the back end sets them (back-end.ts IMPORT_LIMITS). */
export interface ImportLimits {
  /** lower case, with the dot */
  extensions: readonly string[]
  maxFiles: number
  maxFileBytes: number
  maxTotalBytes: number
}

/** A character no file name of an upload may hold: path separators, Windows' reserved ones, control characters. */
// eslint-disable-next-line no-control-regex
const NOT_IN_FILE_NAME = /[/\\:*?"<>|\u0000-\u001f]/

/**
 * The import call's boundary check on what the files are before any byte is read (the server checks the names and
 * sizes a request declares): plain base names of an importable kind, each once, within the limits.
 */
export function validateImportManifest(files: readonly { name: string; size: number }[], limits: ImportLimits): void {
  if (files.length === 0) throw new InputError('import', 'no file given')
  if (files.length > limits.maxFiles) throw new InputError('import', `at most ${limits.maxFiles} files at once`)
  const seen = new Set<string>()
  let total = 0
  for (const { name, size } of files) {
    const extension = /\.[^.]*$/.exec(name)?.[0].toLowerCase()
    if (name.length > 255 || name.includes('..') || NOT_IN_FILE_NAME.test(name) || name.trim() !== name) {
      throw new InputError(`import ${JSON.stringify(name.slice(0, 255))}`, 'not a plain file name')
    }
    if (extension === undefined || extension.length === name.length || !limits.extensions.includes(extension)) {
      throw new InputError(`import ${name}`, `want a ${limits.extensions.join(', ')} file`)
    }
    if (seen.has(name.toLowerCase())) throw new InputError(`import ${name}`, 'given twice')
    seen.add(name.toLowerCase())
    if (!Number.isSafeInteger(size) || size < 0) throw new InputError(`import ${name}`, 'size must be a whole number')
    if (size > limits.maxFileBytes) {
      throw new InputError(`import ${name}`, `larger than ${limits.maxFileBytes >> 20} MiB`)
    }
    total += size
  }
  if (total > limits.maxTotalBytes) {
    throw new InputError('import', `files larger than ${limits.maxTotalBytes >> 20} MiB in all`)
  }
}

/** The import call's boundary check, as validateArtefact is the artefacts': a list of {name, bytes}, within the limits. */
export function validateImport(files: unknown, limits: ImportLimits): asserts files is ImportFile[] {
  if (!Array.isArray(files)) throw new InputError('import', 'want a list of files')
  const manifest = files.map((file: unknown, i) => {
    const { name, bytes, ...rest } = (typeof file === 'object' && file !== null ? file : {}) as Partial<ImportFile>
    if (typeof name !== 'string' || !(bytes instanceof Uint8Array) || Object.keys(rest).length > 0) {
      throw new InputError(`import file ${i + 1}`, 'want exactly {name, bytes}')
    }
    return { name, size: bytes.byteLength }
  })
  validateImportManifest(manifest, limits)
}

/** What both transports implement for the renderer: commands that answer, events that arrive. */
export interface PhonoscopeApi {
  call<C extends CommandName>(command: C, params: Params<C>): Promise<Result<C>>
  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void
  artefact(request: ArtefactRequest): Promise<Artefact>
  /** imports uploaded recordings and bundles as `phonoscope import` imports files; what each file became */
  importFiles(files: ImportFile[]): Promise<ImportSummary>
}
