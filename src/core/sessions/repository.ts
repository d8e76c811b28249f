import type { Patient, SessionFilter, SessionInfo, Site } from '../api/app'
import type { WavWriter } from '../audio/wav-writer'

/**
 * Where examinations are kept, as the service and the transports see it: a JSON folder per session today
 * (store.ts), a database tomorrow, without touching anything above. Several processes (recorders, servers, the app)
 * may share one repository, so ownership is part of the contract: a process holds the sessions it has open, a site
 * has one writer at a time, and update is one step across processes.
 */
export interface SessionRepository {
  /** where it lives, for messages (a folder) */
  readonly location: string
  /**
   * Start-up: a site still marked recording whose writer is gone (crash, kill, power) keeps every sample that
   * reached the disk and is marked interrupted, never dropped. Returns the sessions repaired.
   */
  recover(): Promise<string[]>
  /** Saves a new session, held open by this process. */
  create(info: SessionInfo): Promise<void>
  /** This process has the session open until letGo: no other process's recover interrupts it. */
  hold(id: string): Promise<void>
  letGo(id: string): Promise<void>
  /** Every session this process holds open (shutdown). */
  letGoAll(): Promise<void>
  /** Makes this process the site's only writer until the returned release; refuses while another records it. */
  claimSite(id: string, site: Site): Promise<() => Promise<void>>
  /** Where the claimed site's sound goes, as it arrives. */
  openWav(id: string, site: Site, sampleRate: number): Promise<WavWriter>
  /** The session changed as one step across processes (`change` applied to what is stored now); returns it. */
  update(id: string, change: (info: SessionInfo) => void): Promise<SessionInfo>
  /** The session as it stands (a writer that is gone reads as interrupted); never writes. */
  get(id: string): Promise<SessionInfo>
  /**
   * Every session that matches (sessionMatches), oldest first, or the newest `limit` of them (newestPage), each site
   * as its summary (filter.ts LISTED_SITE_FIELDS, `windows: []`: get has the rest, and thousands of exams list fast);
   * never writes (a listing works on a full disk).
   */
  list(filter?: SessionFilter): Promise<SessionInfo[]>
  /** Deletes a session and its audio for good (the caller checked nobody records it). */
  remove(id: string): Promise<void>
  /**
   * Files a finished examination as a whole (import, a bundle): `audio` gives each site's recording as a 16-bit WAV
   * to copy in. Refuses an id that exists.
   */
  put(info: SessionInfo, audio: Partial<Record<Site, string>>): Promise<void>
  /** The site already holding a recording of this sha256 (import never stores the same recording twice). */
  findRecording(sha256: string): Promise<{ session: string; site: Site } | undefined>
  /** Patients whose id or name contains `query` (case-insensitive; all without one), by id. */
  patients(query?: string): Promise<Patient[]>
  patient(id: string): Promise<Patient | undefined>
  /** Creates or replaces the patient with this id. */
  savePatient(patient: Patient): Promise<Patient>
  /** The file of a site's recording (16-bit PCM WAV at its own rate); it may not exist yet. */
  sitePath(id: string, site: Site): string
  /** The folder that holds a session's files, for messages (what was kept where). */
  folder(id: string): string
}
