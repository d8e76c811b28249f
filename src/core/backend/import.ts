import { mkdtemp, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, extname, join } from 'node:path'
import { SITES, type ImportSummary, type Patient, type SessionInfo, type Site, type SiteRecord } from '../api/app'
import { keepAndClassify } from '../analysis/keep'
import { RecordingPool, workersAvailable } from '../analysis/recording-pool'
import { sha256Of } from '../audio/lossless'
import { errorText, InputError, isInputError } from '../errors'
import { updatePatientVerdict } from '../sessions/patient-verdict'
import type { SessionRepository } from '../sessions/repository'
import type { ModelRuntime } from '../sessions/service'
import { offlineWindows, siteResult } from '../sessions/site-result'
import { newSessionId } from '../sessions/store'
import { BUNDLE_EXTENSION, readBundle } from './bundle'

export interface ImportOptions {
  repository: SessionRepository
  /** the model that classifies each recording, started when the first one needs it (a bundle needs none) */
  model: () => Promise<ModelRuntime>
  /** files everything under this patient id (CirCor names then only group the sites into exams) */
  patient?: string
  /** the site of a file whose name does not say (default Phc: "any other place") */
  site?: Site
  /** after each file (or bundle) */
  onProgress?: (done: number, total: number) => void
  /** classify in a RecordingPool's worker threads (default: where their script is, workersAvailable) */
  workers?: boolean
  /** the worker script (default: beside this module's bundle, or its source): the app's main bundle names its own */
  workerScript?: URL
}

export type { ImportSummary } from '../api/app'

/** The audio files import reads from a folder; a bundle is recognised by its extension. */
const AUDIO = new Set(['.wav', '.flac'])
/** CirCor's naming: <patient>_<site>[_<n>], n the recording's repeat at that site; a patient id as the contract's. */
const CIRCOR_NAME = /^([\p{L}\p{N}][\p{L}\p{N}.-]{0,63})_(AV|PV|TV|MV|Phc)(?:_([0-9]{1,3}))?$/iu

interface Planned {
  path: string
  site: Site
}

/** One examination to file: a CirCor patient's recordings of one repeat, or one file. */
interface PlannedExam {
  patient: string
  files: Planned[]
}

/**
 * Imports recordings (WAV, FLAC; folders recursively) and bundles into the repository. CirCor names become patients
 * with examinations: a patient's recordings without a repeat number (or _1) form the first, those numbered _n the
 * n-th; any other name is an examination of its own at `site`. Each recording is decoded once into the site's
 * 16-bit WAV (refused when that would lose anything: more than 16 bits, float, several channels) and its features, and
 * classified as `classify` classifies the file (the same samples, windows and rule), with the patient verdict by the
 * card's rule.
 * A file's problem is listed and the rest go on; the same audio is never stored twice.
 */
export async function importPaths(paths: string[], options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now()
  const summary: ImportSummary = {
    patients: 0,
    exams: 0,
    recordings: 0,
    skipped: 0,
    failed: [],
    seconds: 0,
    sessions: [],
  }
  const fail = (path: string, error: unknown) => {
    if (!isInputError(error)) summary.failed.push({ path, error: `internal error: ${errorText(error)}` })
    // the message names the file already (an InputError's subject)
    else summary.failed.push({ path, error: error.subject === path ? errorText(error.problem) : errorText(error) })
  }
  const { files, bundles } = await collect(paths, fail)
  const exams = plan(files, options)
  const total = exams.reduce((n, e) => n + e.files.length, bundles.length)
  let done = 0
  const advance = () => options.onProgress?.(++done, total)

  // what the store holds (one listing: findRecording would list it again for every file)
  const known = new Set<string>()
  for (const info of await options.repository.list()) for (const s of info.sites) if (s.sha256) known.add(s.sha256)
  // on this thread, so that of two copies of the same audio in one import only the first goes on
  const admission: Admission = {
    admit: (sha256) => {
      if (known.has(sha256)) {
        summary.skipped++
        return false
      }
      known.add(sha256)
      return true
    },
    // a recording that failed after its admission may be imported again
    withdraw: (sha256) => known.delete(sha256),
  }
  const patients = new Set<string>()
  const filed = (info: SessionInfo) => {
    summary.exams++
    summary.sessions.push(info.id)
    if (info.patient !== '') patients.add(info.patient)
  }

  let runtime: ModelRuntime | undefined
  let pool: RecordingPool | undefined
  const scratch = await mkdtemp(join(tmpdir(), 'phonoscope-import-'))
  const inFlight = new Set<Promise<void>>()
  const filedAt: SessionInfo[] = [] // by exam, so that the summary keeps the files' order
  try {
    for (const path of bundles) {
      try {
        const outcome = await importBundle(path, options.repository, known, scratch)
        if (outcome.filed) {
          filed(outcome.filed)
          summary.recordings += outcome.recordings
        } else summary.skipped += outcome.recordings
      } catch (error) {
        fail(path, error)
      }
      advance()
    }
    for (const [index, exam] of exams.entries()) {
      // outside the files' try: a model that does not start is no file's problem, and ends the import
      runtime ??= await options.model()
      pool ??=
        (options.workers ?? workersAvailable(options.workerScript))
          ? new RecordingPool({ card: runtime.card, worker: options.workerScript })
          : undefined
      const model = runtime
      const filing = importExam(exam.files, index, scratch, model, pool, admission, fail, advance).then(
        async (sites) => {
          if (sites.length === 0) return
          const audio = Object.fromEntries(sites.map(({ record, wav }) => [record.site, wav]))
          const records = sites.map(({ record }) => record)
          filedAt[index] = await fileExam(exam.patient, records, audio, options.repository, model)
          summary.recordings += sites.length
          await Promise.all(sites.map(({ wav }) => rm(wav, { force: true })))
        },
      )
      inFlight.add(filing)
      void filing.finally(() => inFlight.delete(filing)).catch(() => undefined)
      if (inFlight.size >= EXAMS_IN_FLIGHT) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
  } finally {
    await Promise.allSettled(inFlight) // a failed filing ends the import: the others finish or fail first
    await pool?.close()
    await rm(scratch, { recursive: true, force: true })
  }
  for (const info of filedAt) if (info) filed(info)
  summary.patients = patients.size
  summary.seconds = Math.round(performance.now() - started) / 1000
  return summary
}

/** The files named and those in the folders named (recursively, following links, each folder once), sorted. */
async function collect(
  paths: string[],
  fail: (path: string, error: unknown) => void,
): Promise<{ files: string[]; bundles: string[] }> {
  const files: string[] = []
  const seen = new Set<string>()
  async function walk(folder: string): Promise<void> {
    const real = await realpath(folder)
    if (seen.has(real)) return
    seen.add(real)
    const names = (await readdir(folder)).sort()
    for (const name of names) {
      const path = join(folder, name)
      const info = await stat(path).catch(() => undefined) // a dangling link is no recording
      if (info?.isDirectory()) await walk(path)
      else if (info?.isFile() && (AUDIO.has(extname(name).toLowerCase()) || isBundle(name))) files.push(path)
    }
  }
  for (const path of paths) {
    try {
      const info = await stat(path).catch(() => {
        throw new InputError(path, 'file not found')
      })
      if (info.isDirectory()) await walk(path)
      else files.push(path) // named explicitly: tried whatever its name, so that a wrong file is reported
    } catch (error) {
      fail(path, error)
    }
  }
  const unique = [...new Set(files)]
  return { files: unique.filter((f) => !isBundle(f)), bundles: unique.filter(isBundle) }
}

const isBundle = (path: string): boolean => extname(path).toLowerCase() === BUNDLE_EXTENSION

/** Examinations in the order of their first file: CirCor recordings grouped by patient and repeat, others alone. */
function plan(files: string[], options: ImportOptions): PlannedExam[] {
  const exams: PlannedExam[] = []
  const circor = new Map<string, PlannedExam[]>()
  for (const path of files) {
    const name = CIRCOR_NAME.exec(basename(path, extname(path)))
    if (!name) {
      exams.push({ patient: options.patient ?? '', files: [{ path, site: options.site ?? 'Phc' }] })
      continue
    }
    const [, patient, siteName, repeat] = name
    const site = SITES.find((s) => s.toLowerCase() === siteName!.toLowerCase())!
    const own = circor.get(patient!) ?? []
    circor.set(patient!, own)
    // the n-th exam; a site it holds already (AV and AV_1) moves the file on to the next exam without it
    for (let n = Math.max(1, Number(repeat ?? 1)); ; n++) {
      while (own.length < n) {
        const exam: PlannedExam = { patient: options.patient ?? patient!, files: [] }
        own.push(exam)
        exams.push(exam)
      }
      const exam = own[n - 1]!
      if (exam.files.some((f) => f.site === site)) continue
      exam.files.push({ path, site })
      break
    }
  }
  for (const exam of exams) exam.files.sort((a, b) => SITES.indexOf(a.site) - SITES.indexOf(b.site))
  return exams.filter((e) => e.files.length > 0)
}

/** Who decides, by its copy's sha256, whether a recording is new to the store; and takes a failed one back. */
interface Admission {
  admit: (sha256: string) => boolean
  withdraw: (sha256: string) => void
}

/** A site of an imported exam: its record and its lossless copy in the scratch folder. */
interface ImportedSite {
  record: SiteRecord
  wav: string
}

/** Examinations in flight at once: one's sites decoded and classified while another's are inferred and filed. */
const EXAMS_IN_FLIGHT = 2

/**
 * An exam's recordings, each decoded once into its lossless copy and features and, when new to the store, classified
 * as a recorded site is (siteResult); one that fails is listed and the rest go on.
 */
async function importExam(
  files: Planned[],
  index: number,
  scratch: string,
  model: ModelRuntime,
  pool: RecordingPool | undefined,
  admission: Admission,
  fail: (path: string, error: unknown) => void,
  advance: () => void,
): Promise<ImportedSite[]> {
  const sites = await Promise.all(
    files.map(async ({ path, site }): Promise<ImportedSite | undefined> => {
      const wav = join(scratch, `${index}-${site}.wav`)
      let admitted: string | undefined
      const admit = (sha256: string): boolean => {
        if (!admission.admit(sha256)) return false
        admitted = sha256
        return true
      }
      try {
        // in a RecordingPool's worker where one runs (the CLI, the server, the app), else on this thread: the same result
        const kept = pool
          ? await pool.keepAndClassify(path, wav, model.inferer, admit)
          : await keepAndClassify(path, wav, model.card, model.inferer, admit)
        if (!kept.result) return undefined
        const { result, sampleRate, sha256 } = kept
        const record: SiteRecord = {
          site,
          status: 'done',
          duration_s: result.duration_s,
          sample_rate: sampleRate,
          windows: offlineWindows(site, result, model.provider, model.card.heads),
          ...siteResult(result),
          sha256,
          imported_from: basename(path),
        }
        return { record, wav }
      } catch (error) {
        if (admitted) admission.withdraw(admitted)
        // the scratch copy's name means nothing to the user
        fail(path, isInputError(error) && error.subject === wav ? new InputError(path, error.problem) : error)
        return undefined
      } finally {
        advance()
      }
    }),
  )
  return sites.filter((site): site is ImportedSite => site !== undefined)
}

/** Files an imported examination (its patient too, the first time) with the patient verdict by the card's rule. */
async function fileExam(
  patient: string,
  sites: SiteRecord[],
  audio: Partial<Record<Site, string>>,
  repository: SessionRepository,
  model: ModelRuntime,
): Promise<SessionInfo> {
  const info: SessionInfo = {
    id: newSessionId(),
    created: new Date().toISOString(),
    patient,
    status: 'complete',
    source: { kind: 'file' },
    sites,
    model: { name: model.name, version: model.card.version, sha256: model.sha256, aggregation: model.card.aggregation },
    notes: '',
    dropped_windows: 0,
  }
  updatePatientVerdict(info, model.card)
  if (patient !== '') await filePatient({ id: patient }, repository)
  await putFresh(info, audio, repository)
  return info
}

/** A patient new to the store is filed; one it knows keeps what the store says (a bundle never overwrites it). */
async function filePatient(patient: Patient, repository: SessionRepository): Promise<void> {
  if (!(await repository.patient(patient.id))) await repository.savePatient(patient)
}

/** put, under a new id when this one is taken (two imports in the same second, a bundle from elsewhere). */
async function putFresh(
  info: SessionInfo,
  audio: Partial<Record<Site, string>>,
  repository: SessionRepository,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await repository.put(info, audio)
    } catch (error) {
      if (!(isInputError(error) && error.kind === 'conflict') || attempt === 9) throw error
      info.id = newSessionId(new Date(info.created))
    }
  }
}

/**
 * A bundle filed as it was exported (its record, patient and audio unchanged), unless the store has any of its
 * recordings already: then it is skipped as a whole (a partial copy would split the examination's verdict).
 */
async function importBundle(
  path: string,
  repository: SessionRepository,
  known: Set<string>,
  scratch: string,
): Promise<{ filed?: SessionInfo; recordings: number }> {
  const { session, patient, audio } = await readBundle(path)
  const recordings = Object.keys(audio).length
  if (recordings === 0) throw new InputError(path, 'the bundle holds no recording')
  // a record that does not name its recording's sha256 gets it: what the next import deduplicates by
  for (const site of session.sites) if (audio[site.site]) site.sha256 ??= sha256Of(audio[site.site]!)
  if (session.sites.some((s) => s.sha256 !== undefined && known.has(s.sha256))) return { recordings }
  const files: Partial<Record<Site, string>> = {}
  for (const [site, bytes] of Object.entries(audio) as [Site, Uint8Array][]) {
    files[site] = join(scratch, `bundle-${site}.wav`)
    await writeFile(files[site], bytes)
  }
  if (patient) await filePatient(patient, repository)
  else if (session.patient !== '') await filePatient({ id: session.patient }, repository)
  await putFresh(session, files, repository)
  for (const s of session.sites) if (s.sha256) known.add(s.sha256)
  return { filed: session, recordings }
}
