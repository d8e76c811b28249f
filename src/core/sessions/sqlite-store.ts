import Database from 'better-sqlite3'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { chmod, copyFile, mkdir, rename, rm, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { SESSION_ID, type Finding, type Patient, type SessionFilter, type SessionInfo, type Site } from '../api/app'
import { framesOnDisk, repairWav } from '../audio/wav-repair'
import { WavWriter } from '../audio/wav-writer'
import { InputError } from '../errors'
import { lastOf, listed, sessionMatches } from './filter'
import { LISTINGS_FILLED, migrate, SCHEMA_VERSION, versionOf } from './migrations'
import { sqliteBinding } from './native'
import { DiskFullError, Holds, isDiskFull, ownersOf, savingTo, settle } from './ownership'
import type { SessionRepository } from './repository'
import { patientsMatching, SessionStore } from './store'

/** How long a write waits for another process's transaction (they are short) before it gives up. */
const BUSY_MS = 10_000
/** up to this many exams changed since the last listing are read one by one, not in a pass over all of them */
const FEW_STALE = 64
/** the compiled binding this process loads (Electron's own in development: native.ts) */
const BINDING = sqliteBinding()
/** What the WAL file is cut back to once checkpointed. */
const WAL_BYTES = 32 * 1024
/** Daily copies of the database kept in <home>/backups. */
const BACKUPS_KEPT = 7
/** The name of each examination's own copy beside its audio (a JSON store's layout, so a rebuild reads it back). */
const EXAM_JSON = 'session.json'
const PATIENTS_JSON = 'patients.json'

/** SessionInfo's fields kept as plain columns (absent: NULL) and as JSON (null and absent differ), per table. */
const EXAM_COLUMNS = ['created', 'patient', 'status', 'verdict', 'notes', 'device', 'dropped_windows', 'hop_s'] as const
const EXAM_JSON_COLUMNS = ['source', 'model', 'probabilities'] as const
const SITE_COLUMNS = ['status', 'duration_s', 'sample_rate', 'verdict', 'sha256', 'imported_from'] as const
const SITE_JSON_COLUMNS = [
  'probabilities',
  'verdict_windows',
  'quality',
  'heart_rate_bpm',
  'heart_sounds',
  'murmur_timing',
  'descriptors',
] as const
const PATIENT_COLUMNS = ['name', 'birth_year', 'age_group', 'sex'] as const

type Row = Record<string, unknown>

/** Whether a session's status may yet change as it settles (list reads it again): someone was recording it. */
const unsettled = (info: SessionInfo): boolean =>
  info.status === 'recording' || info.sites.some((site) => site.status === 'recording')

/**
 * The rows sessions.list's filter may select, by indexed columns alone: never fewer than sessionMatches keeps (a
 * status asked for also takes the sessions still recording, which may read as interrupted once settled).
 */
function listingWhere(filter: SessionFilter): { where: string; args: unknown[] } {
  const terms: [string, unknown[]][] = []
  if (filter.patient !== undefined) terms.push(['patient = ?', [filter.patient]])
  if (filter.status !== undefined) terms.push(["status IN (?, 'recording')", [filter.status]])
  if (filter.before !== undefined) terms.push(['id < ?', [filter.before]])
  if (filter.from !== undefined) terms.push(['created >= ?', [filter.from]])
  if (filter.to !== undefined) terms.push(['created <= ?', [lastOf(filter.to)]])
  return {
    where: terms.length === 0 ? '' : `WHERE ${terms.map(([term]) => term).join(' AND ')}`,
    args: terms.flatMap(([, args]) => args),
  }
}

/** A row's columns onto an object: NULL leaves the field out, JSON columns parse. */
function fromRow(row: Row, columns: readonly string[], json: readonly string[]): Row {
  const out: Row = {}
  for (const c of columns) if (row[c] !== null) out[c] = row[c]
  for (const c of json) if (row[c] !== null) out[c] = parseColumn(row[c] as string, c)
  return out
}

/** A JSON column; one that does not parse was damaged inside a page SQLite found sound: the database is damaged. */
function parseColumn(text: string, column: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new Database.SqliteError(`column ${column} does not hold JSON`, 'SQLITE_CORRUPT')
  }
}

function toRow(value: object, columns: readonly string[], json: readonly string[]): Row {
  const record = value as Row
  const row: Row = {}
  for (const c of columns) row[c] = record[c] ?? null
  for (const c of json) row[c] = record[c] === undefined ? null : JSON.stringify(record[c])
  return row
}

const isCorrupt = (error: unknown): boolean =>
  error instanceof Database.SqliteError && /^SQLITE_(CORRUPT|NOTADB)/.test(error.code)

/** A file written aside and renamed into place, readable by the user only. */
function replaceFileSync(path: string, text: string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeFileSync(tmp, text, { mode: 0o600 })
    renameSync(tmp, path)
  } catch (error) {
    try {
      unlinkSync(tmp)
    } catch {
      // never written
    }
    throw error
  }
}

const today = (): string => new Date().toISOString().slice(0, 10)

/**
 * Examinations in a SQLite database, <home>/phonoscope.db (WAL, so readers never wait for a writer), their audio as
 * files beside it: <home>/sessions/<id>/<site>.wav, with the examination's own session.json written there on every
 * save (what `rebuild` reads back should the database be lost). Patients also go to <home>/sessions/patients.json.
 *
 * Several processes may open one home at once. An update is one IMMEDIATE transaction (other writers wait up to
 * BUSY_MS), so it applies to what is stored now and none is lost. Ownership stays per process, as lock files beside
 * the audio (ownership.ts): a session's holders and each site's one writer; a site or session whose owner is gone
 * reads as interrupted, and recover() writes so. A damaged database file is a storage error that names the way out.
 */
export class SqliteStore implements SessionRepository {
  readonly dbPath: string
  readonly sessionsDir: string
  readonly backupsDir: string
  /** this process's one writing connection (opened on the first write), and a read-only one until then */
  private writing?: Promise<Database.Database>
  private reading?: Database.Database
  private readonly holds = new Holds((id) => this.folder(id))
  /** each exam's listing as last parsed, by id, with the revision it was parsed at (readSessions) */
  private readonly listings = new Map<string, { revision: number; info: SessionInfo }>()

  /**
   * @param home the folder of the database, the audio and the backups
   * @param legacy JSON session folders (SessionStore's) imported once, on first open: their audio is copied in,
   *   except from <home>/sessions, whose sessions stay where they are
   */
  constructor(
    readonly home: string,
    private readonly legacy: readonly string[] = [],
  ) {
    this.dbPath = join(home, 'phonoscope.db')
    this.sessionsDir = join(home, 'sessions')
    this.backupsDir = join(home, 'backups')
  }

  get location(): string {
    return this.home
  }

  /** Start-up: the schema migrated, legacy folders imported, a daily backup, then interrupted sites repaired. */
  async recover(): Promise<string[]> {
    const db = await this.writer()
    this.backupDaily(db)
    const repaired: string[] = []
    const recording = this.guard(
      () =>
        db
          .prepare(
            `SELECT id FROM examinations WHERE status = 'recording'
             OR id IN (SELECT exam FROM sites WHERE status = 'recording') ORDER BY id`,
          )
          .pluck()
          .all() as string[],
    )
    for (const id of recording) {
      for (;;) {
        const found = this.findSession(db, id)
        if (!found) break // removed meanwhile
        const { info, revision } = found
        const owners = await ownersOf(this.folder(id))
        const settled = structuredClone(info)
        if (!(await settle(settled, owners, (site) => this.sitePath(id, site), repairWav))) break
        const saved = this.transaction(db, () => {
          if (this.revisionOf(db, id) !== revision) return false // changed meanwhile: judged again
          this.writeSession(db, settled)
          return true
        })
        if (!saved) continue
        await Promise.all(owners.stale.map((path) => unlink(path).catch(() => undefined)))
        repaired.push(id)
        break
      }
    }
    return repaired
  }

  async create(info: SessionInfo): Promise<void> {
    await this.hold(info.id) // first: no other process's recover may see the session unheld
    const db = await this.writer()
    this.transaction(db, () => {
      if (this.revisionOf(db, info.id) !== undefined)
        throw new InputError(`session ${info.id}`, 'exists already', 'conflict')
      this.writeSession(db, info)
    })
  }

  hold(id: string): Promise<void> {
    return this.holds.hold(id)
  }

  letGo(id: string): Promise<void> {
    return this.holds.letGo(id)
  }

  letGoAll(): Promise<void> {
    return this.holds.letGoAll()
  }

  async claimSite(id: string, site: Site): Promise<() => Promise<void>> {
    this.readSession(await this.reader(), id) // an unknown session is not_found
    return this.holds.claimSite(id, site)
  }

  async openWav(id: string, site: Site, sampleRate: number): Promise<WavWriter> {
    return savingTo(this.folder(id), async () => {
      const writer = await WavWriter.create(this.sitePath(id, site), sampleRate)
      await chmod(this.sitePath(id, site), 0o600)
      return writer
    })
  }

  async update(id: string, change: (info: SessionInfo) => void): Promise<SessionInfo> {
    const db = await this.writer()
    return this.transaction(db, () => {
      const { info } = this.readSession(db, id)
      change(info)
      this.writeSession(db, info)
      return info
    })
  }

  async get(id: string): Promise<SessionInfo> {
    const db = await this.reader()
    for (;;) {
      const { info, revision } = this.readSession(db, id)
      if (info.status !== 'recording' && !info.sites.some((s) => s.status === 'recording')) return info
      const owners = await ownersOf(this.folder(id))
      // owners are judged against the session as it was while they were read: a writer that finished meanwhile
      // (saved, then released its lock) must not read as gone
      if (this.revisionOf(db, id) !== revision) continue
      await settle(info, owners, (site) => this.sitePath(id, site), framesOnDisk)
      return info
    }
  }

  async list(filter: SessionFilter = {}): Promise<SessionInfo[]> {
    const db = await this.reader()
    const { sessions, patients } = this.guard(() =>
      db.transaction(() => {
        const patients = new Map(this.readPatients(db).map((p) => [p.id, p]))
        return { sessions: this.readSessions(db, filter, patients), patients }
      })(),
    )
    const settled = await Promise.all(
      sessions.map((s) =>
        unsettled(s)
          ? this.get(s.id).then(listed, () => undefined) // undefined: removed meanwhile
          : s,
      ),
    )
    return settled.filter(
      (s): s is SessionInfo => s !== undefined && sessionMatches(s, filter, patients.get(s.patient)),
    )
  }

  async remove(id: string): Promise<void> {
    const db = await this.writer()
    this.transaction(db, () => {
      this.readSession(db, id) // not_found
      db.prepare('DELETE FROM examinations WHERE id = ?').run(id)
      this.listings.delete(id)
    })
    // its audio goes after its rows: a crash between leaves files no listing shows, never a session without audio
    const doomed = join(this.sessionsDir, `.deleted-${id}-${randomBytes(4).toString('hex')}`)
    await rename(this.folder(id), doomed).catch(() => undefined)
    await rm(doomed, { recursive: true, force: true })
  }

  async put(info: SessionInfo, audio: Partial<Record<Site, string>>): Promise<void> {
    const db = await this.writer()
    const folder = this.folder(info.id)
    const exists = () => new InputError(`session ${info.id}`, 'exists already', 'conflict')
    if (this.revisionOf(db, info.id) !== undefined || existsSync(folder)) throw exists()
    // built beside and renamed into place: a crash leaves no half-imported session
    const staging = join(this.sessionsDir, `.staging-${info.id}-${randomBytes(4).toString('hex')}`)
    await savingTo(this.sessionsDir, async () => {
      await mkdir(staging, { recursive: true, mode: 0o700 })
      try {
        for (const [site, wav] of Object.entries(audio)) {
          await copyFile(wav, join(staging, `${site}.wav`))
          await chmod(join(staging, `${site}.wav`), 0o600)
        }
        await rename(staging, folder)
      } finally {
        await rm(staging, { recursive: true, force: true })
      }
    })
    this.transaction(db, () => {
      if (this.revisionOf(db, info.id) !== undefined) throw exists()
      this.writeSession(db, info)
    })
  }

  async findRecording(sha256: string): Promise<{ session: string; site: Site } | undefined> {
    const db = await this.reader()
    return this.guard(
      () =>
        db.prepare('SELECT exam AS session, site FROM sites WHERE sha256 = ? ORDER BY exam LIMIT 1').get(sha256) as
          { session: string; site: Site } | undefined,
    )
  }

  async patients(query?: string): Promise<Patient[]> {
    const db = await this.reader()
    return patientsMatching(
      this.guard(() => this.readPatients(db)),
      query,
    )
  }

  async patient(id: string): Promise<Patient | undefined> {
    return (await this.patients()).find((p) => p.id === id)
  }

  async savePatient(patient: Patient): Promise<Patient> {
    const db = await this.writer()
    this.storePatient(db, patient)
    return patient
  }

  private storePatient(db: Database.Database, patient: Patient): void {
    this.transaction(db, () => {
      db.prepare(
        `INSERT INTO patients (id, ${PATIENT_COLUMNS.join(', ')}) VALUES (@id, ${PATIENT_COLUMNS.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (id) DO UPDATE SET ${PATIENT_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      ).run({ id: patient.id, ...toRow(patient, PATIENT_COLUMNS, []) })
      replaceFileSync(join(this.sessionsDir, PATIENTS_JSON), JSON.stringify(this.readPatients(db), null, 1))
    })
  }

  sitePath(id: string, site: Site): string {
    return join(this.folder(id), `${site}.wav`)
  }

  folder(id: string): string {
    if (!SESSION_ID.test(id)) throw new InputError(`session ${JSON.stringify(id).slice(0, 40)}`, 'not a session id')
    return join(this.sessionsDir, id)
  }

  /**
   * The way out of a damaged database: it is moved aside (kept, never deleted) and a new one is built from every
   * examination's session.json and audio in <home>/sessions, and patients.json. Returns where the damaged file went
   * and how many examinations came back.
   */
  async rebuild(): Promise<{ damaged?: string; sessions: number }> {
    this.close()
    let damaged: string | undefined
    if (existsSync(this.dbPath)) {
      damaged = `${this.dbPath}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(this.dbPath + suffix)) renameSync(this.dbPath + suffix, damaged + suffix)
      }
    }
    let sessions = 0
    this.writing = this.openWriter(async (db) => {
      sessions = await this.importFolder(db, this.sessionsDir)
      for (const source of this.legacy) this.markImported(db, source) // the rebuild stands for them too
    })
    await this.writer()
    return { damaged, sessions }
  }

  /** Closes the database (tests, rebuild); the next call opens it again. */
  close(): void {
    this.listings.clear() // the next database opened (a rebuild, a restored backup) is read afresh
    const writing = this.writing
    this.writing = undefined
    void writing?.then((db) => db.close()).catch(() => undefined)
    this.reading?.close()
    this.reading = undefined
  }

  /**
   * The connection for reading: the writer's once this process has one, else read-only (a listing writes nothing)
   * when the database is at this schema with every legacy folder imported.
   */
  private async reader(): Promise<Database.Database> {
    if (this.writing) return this.writing
    if (this.reading) return this.reading
    if (existsSync(this.dbPath)) {
      const db = this.guard(
        () =>
          new Database(this.dbPath, { readonly: true, fileMustExist: true, timeout: BUSY_MS, nativeBinding: BINDING }),
      )
      if (this.guard(() => versionOf(db)) === SCHEMA_VERSION && this.legacyImported(db)) return (this.reading = db)
      db.close()
    }
    return this.writer()
  }

  /** The connection for writing, opened once per process: the schema migrated, the legacy folders imported. */
  private writer(): Promise<Database.Database> {
    this.writing ??= this.openWriter(async (db) => {
      for (const source of this.legacy.filter((s) => !this.legacyImported(db, s))) {
        await this.importFolder(db, source)
        this.markImported(db, source)
      }
    })
    const writing = this.writing
    return writing.catch((error: unknown) => {
      if (this.writing === writing) this.writing = undefined // the next call tries again
      throw error
    })
  }

  private async openWriter(fill: (db: Database.Database) => Promise<void>): Promise<Database.Database> {
    const db = this.guard(() => {
      for (const folder of [this.home, this.sessionsDir]) mkdirSync(folder, { recursive: true, mode: 0o700 })
      // the file made first, by the user only: SQLite gives its -wal and -shm the same mode
      closeSync(openSync(this.dbPath, 'a', 0o600))
      const db = new Database(this.dbPath, { timeout: BUSY_MS, nativeBinding: BINDING })
      db.pragma('journal_mode = WAL')
      // the WAL folded into the database after every commit and kept small: sessions are written a few times per
      // site (live windows stay in memory until the site ends), and a full disk should leave its room to the audio
      db.pragma('wal_autocheckpoint = 1')
      db.pragma(`journal_size_limit = ${WAL_BYTES}`)
      db.pragma('foreign_keys = ON')
      const from = migrate(db, (version) => {
        if (version > 0) this.backup(db, `phonoscope-v${version}-${Date.now()}.db`)
      })
      if (from > 0 && from < LISTINGS_FILLED) this.fillListings(db)
      if (from < SCHEMA_VERSION) db.pragma('wal_checkpoint(TRUNCATE)')
      return db
    })
    try {
      await fill(db)
      return db
    } catch (error) {
      db.close()
      throw error
    }
  }

  /** Rows saved before schema 4 given their listing (readSessions reads such a row whole until then). */
  private fillListings(db: Database.Database): void {
    const ids = db.prepare('SELECT id FROM examinations WHERE listed IS NULL').pluck().all() as string[]
    const fill = db.prepare('UPDATE examinations SET listed = ? WHERE id = ?')
    db.transaction(() => {
      for (const id of ids) fill.run(JSON.stringify(listed(this.readSession(db, id).info)), id)
    })()
  }

  /** Whether `source` (every legacy folder, without one) was imported already. */
  private legacyImported(db: Database.Database, source?: string): boolean {
    const imported = new Set(this.guard(() => db.prepare('SELECT source FROM imported').pluck().all() as string[]))
    return source === undefined ? this.legacy.every((s) => imported.has(s)) : imported.has(source)
  }

  /** A consistent copy of the database in <home>/backups (VACUUM INTO), readable by the user only. */
  private backup(db: Database.Database, name: string): void {
    mkdirSync(this.backupsDir, { recursive: true, mode: 0o700 })
    const path = join(this.backupsDir, name)
    closeSync(openSync(path, 'w', 0o600))
    db.prepare('VACUUM INTO ?').run(path)
  }

  /** Once a day, a copy of a database that passes its integrity check; the last BACKUPS_KEPT are kept. */
  private backupDaily(db: Database.Database): void {
    const name = `phonoscope-${today()}.db`
    const empty = db.prepare('SELECT NOT EXISTS (SELECT 1 FROM examinations)').pluck().get() === 1
    if (empty || existsSync(join(this.backupsDir, name))) return
    this.guard(() => {
      const check = db.pragma('quick_check', { simple: true })
      if (check !== 'ok') throw new Database.SqliteError(String(check), 'SQLITE_CORRUPT')
      this.backup(db, name)
    })
    const daily = readdirSync(this.backupsDir)
      .filter((f) => /^phonoscope-\d{4}-\d{2}-\d{2}\.db$/.test(f))
      .sort()
    for (const old of daily.slice(0, -BACKUPS_KEPT)) unlinkSync(join(this.backupsDir, old))
  }

  /** The sessions and patients of a JSON store's folder not yet here; their audio copied unless already in place. */
  private async importFolder(db: Database.Database, source: string): Promise<number> {
    const json = new SessionStore(source)
    const inPlace = source === this.sessionsDir
    let count = 0
    for (const info of await json.whole()) {
      if (this.revisionOf(db, info.id) !== undefined) continue
      const folder = this.folder(info.id)
      if (!inPlace && !existsSync(folder)) {
        const staging = join(this.sessionsDir, `.staging-${info.id}-${randomBytes(4).toString('hex')}`)
        await savingTo(this.sessionsDir, async () => {
          await mkdir(staging, { recursive: true, mode: 0o700 })
          for (const site of info.sites) {
            const wav = json.sitePath(info.id, site.site)
            if (existsSync(wav)) await copyFile(wav, join(staging, `${site.site}.wav`))
          }
          await rename(staging, folder)
        })
      }
      this.transaction(db, () => {
        if (this.revisionOf(db, info.id) === undefined) this.writeSession(db, info)
      })
      count++
    }
    const known = new Set(this.readPatients(db).map((p) => p.id))
    for (const patient of await json.patients()) if (!known.has(patient.id)) this.storePatient(db, patient)
    return count
  }

  private markImported(db: Database.Database, source: string): void {
    db.prepare('INSERT OR IGNORE INTO imported (source, at) VALUES (?, ?)').run(source, new Date().toISOString())
  }

  /** `action` as one IMMEDIATE transaction: it sees what is stored now, and no other writer runs meanwhile. */
  private transaction<T>(db: Database.Database, action: () => T): T {
    try {
      return this.guard(() => db.transaction(action).immediate())
    } catch (error) {
      const full = isDiskFull(error) || (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_FULL'))
      throw full ? new DiskFullError(this.home) : error
    }
  }

  /** A damaged database file as the user's storage error, with the way out. */
  private guard<T>(action: () => T): T {
    try {
      return action()
    } catch (error) {
      if (!isCorrupt(error)) throw error
      this.close()
      const backups = existsSync(this.backupsDir) ? readdirSync(this.backupsDir).sort() : []
      const kept = backups.length ? `; the last good copy is ${join(this.backupsDir, backups.at(-1)!)}` : ''
      throw new InputError(
        this.dbPath,
        `the database is damaged (${(error as Error).message})${kept}; ` +
          '`phonoscope sessions rebuild` rebuilds it from the audio and each examination’s session.json, keeping this file',
        'storage',
      )
    }
  }

  private revisionOf(db: Database.Database, id: string): number | undefined {
    return this.guard(
      () => db.prepare('SELECT revision FROM examinations WHERE id = ?').pluck().get(id) as number | undefined,
    )
  }

  private readSession(db: Database.Database, id: string): { info: SessionInfo; revision: number } {
    const found = this.findSession(db, id)
    if (!found) throw new InputError(`session ${id}`, 'not found', 'not_found')
    return found
  }

  private findSession(db: Database.Database, id: string): { info: SessionInfo; revision: number } | undefined {
    this.folder(id) // the id checked
    return this.guard(() =>
      db.transaction(() => {
        const row = db.prepare('SELECT * FROM examinations WHERE id = ?').get(id) as Row | undefined
        if (!row) return undefined
        const [info] = this.assemble(db, [row], 'WHERE exam = ?', [id])
        return { info: info!, revision: row.revision as number }
      })(),
    )
  }

  /**
   * The sessions that may match `filter` (list settles and checks them), oldest first, as a listing has them: the
   * newest `filter.limit` of them, found newest first a page at a time, so that the first page of thousands reads and
   * parses little more than itself. SQL narrows by the indexed columns; sessionMatches decides.
   */
  private readSessions(db: Database.Database, filter: SessionFilter, patients: Map<string, Patient>): SessionInfo[] {
    const { where, args } = listingWhere(filter)
    const rows = db.prepare(`SELECT id, revision FROM examinations ${where} ORDER BY id DESC`).all(...args) as Row[]
    const limit = filter.limit ?? rows.length
    const step = Math.max(limit, FEW_STALE)
    const page: SessionInfo[] = []
    for (let start = 0; start < rows.length && page.length < limit; start += step) {
      const chunk = rows.slice(start, start + step)
      this.parseListings(db, chunk)
      for (const row of chunk) {
        const info = this.listings.get(row.id as string)!.info
        // a session still recording may yet read as interrupted: its status is judged once settled
        const judged = unsettled(info) ? { ...filter, status: undefined } : filter
        if (sessionMatches(info, judged, patients.get(info.patient)) && page.push(info) === limit) break
      }
    }
    return page.reverse()
  }

  /**
   * Each exam's listing among `rows` (newest first) not parsed at its revision yet, parsed and kept: the app lists
   * again after every edit, and re-reading thousands of exams' JSON would cost it most of a listing. A few changed
   * (the app after an edit) are read one by one, many (a first listing) in one pass over their range of ids.
   */
  private parseListings(db: Database.Database, rows: Row[]): void {
    const stale = rows.filter((row) => this.listings.get(row.id as string)?.revision !== row.revision)
    if (stale.length === 0) return
    const wanted = new Set(stale.map((row) => row.id as string))
    const one = db.prepare('SELECT id, revision, listed FROM examinations WHERE id = ?')
    const texts = (
      stale.length <= FEW_STALE
        ? stale.map((row) => one.get(row.id))
        : db
            .prepare('SELECT id, revision, listed FROM examinations WHERE id BETWEEN ? AND ?')
            .all(stale.at(-1)!.id, stale[0]!.id)
    ).filter((row) => wanted.has((row as Row).id as string)) as Row[]
    for (const row of texts) {
      const id = row.id as string
      // a row saved before schema 4 that the back-fill has not reached (openWriter): read whole
      const info =
        row.listed === null
          ? listed(this.readSession(db, id).info)
          : (parseColumn(row.listed as string, 'listed') as SessionInfo)
      this.listings.set(id, { revision: row.revision as number, info })
    }
  }

  /** Examination rows, whole, with their sites and findings (those `where` selects). */
  private assemble(db: Database.Database, rows: Row[], where: string, args: unknown[]): SessionInfo[] {
    const windows = new Map<string, unknown>()
    for (const row of db.prepare(`SELECT * FROM site_windows ${where}`).all(...args) as Row[])
      windows.set(`${row.exam as string}/${row.site as string}`, parseColumn(row.windows as string, 'windows'))
    const select = ['exam', 'site', ...SITE_COLUMNS, ...SITE_JSON_COLUMNS].join(', ')
    const sites = new Map<string, Row[]>()
    for (const row of db
      .prepare(`SELECT ${select} FROM sites ${where} ORDER BY exam, position`)
      .all(...args) as Row[]) {
      sites.set(row.exam as string, [...(sites.get(row.exam as string) ?? []), row])
    }
    const findings = new Map<string, Finding>()
    for (const row of db.prepare(`SELECT * FROM findings ${where}`).all(...args) as Row[]) {
      findings.set(
        `${row.exam as string}/${row.site as string}`,
        fromRow(row, ['murmur', 'grade', 'note'], []) as never,
      )
    }
    return rows.map((row) => {
      const id = row.id as string
      const info = { id, ...fromRow(row, EXAM_COLUMNS, EXAM_JSON_COLUMNS) } as unknown as SessionInfo
      info.sites = (sites.get(id) ?? []).map((s) => {
        const site = {
          site: s.site,
          ...fromRow(s, SITE_COLUMNS, SITE_JSON_COLUMNS),
          windows: windows.get(`${id}/${s.site as string}`) ?? [],
        } as unknown as SessionInfo['sites'][number]
        const finding = findings.get(`${id}/${site.site}`)
        return finding ? { ...site, finding } : site
      })
      const finding = findings.get(`${id}/`)
      return finding ? { ...info, finding } : info
    })
  }

  /** The whole session saved (inside a transaction), with its revision counted and its session.json beside its audio. */
  private writeSession(db: Database.Database, info: SessionInfo): void {
    const exam = { id: info.id, ...toRow(info, EXAM_COLUMNS, EXAM_JSON_COLUMNS), listed: JSON.stringify(listed(info)) }
    const columns = Object.keys(exam)
    db.prepare(
      `INSERT INTO examinations (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (id) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}, revision = revision + 1`,
    ).run(exam)
    for (const table of ['sites', 'site_windows', 'findings'])
      db.prepare(`DELETE FROM ${table} WHERE exam = ?`).run(info.id)
    const siteColumns = ['exam', 'position', 'site', ...SITE_COLUMNS, ...SITE_JSON_COLUMNS]
    const insertSite = db.prepare(
      `INSERT INTO sites (${siteColumns.join(', ')}) VALUES (${siteColumns.map((c) => `@${c}`).join(', ')})`,
    )
    const insertWindows = db.prepare('INSERT INTO site_windows (exam, site, windows) VALUES (?, ?, ?)')
    const insertFinding = db.prepare(
      'INSERT INTO findings (exam, site, murmur, grade, note) VALUES (@exam, @site, @murmur, @grade, @note)',
    )
    const saveFinding = (site: string, finding?: Finding) =>
      finding && insertFinding.run({ exam: info.id, site, ...toRow(finding, ['murmur', 'grade', 'note'], []) })
    info.sites.forEach((site, position) => {
      insertSite.run({ exam: info.id, position, site: site.site, ...toRow(site, SITE_COLUMNS, SITE_JSON_COLUMNS) })
      insertWindows.run(info.id, site.site, JSON.stringify(site.windows))
      saveFinding(site.site, site.finding)
    })
    saveFinding('', info.finding)
    const folder = this.folder(info.id)
    mkdirSync(folder, { recursive: true, mode: 0o700 })
    replaceFileSync(join(folder, EXAM_JSON), JSON.stringify(info, null, 1))
  }

  private readPatients(db: Database.Database): Patient[] {
    return (db.prepare('SELECT * FROM patients ORDER BY id').all() as Row[]).map(
      (row) => ({ id: row.id, ...fromRow(row, PATIENT_COLUMNS, []) }) as Patient,
    )
  }
}
