import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { SESSION_ID, type Patient, type SessionFilter, type SessionInfo, type Site } from '../api/app'
import { framesOnDisk, repairWav } from '../audio/wav-repair'
import { WavWriter } from '../audio/wav-writer'
import { InputError } from '../errors'
import { withLock } from './owner-lock'
import { listed, newestPage, sessionMatches } from './filter'
import { Holds, ownersOf, savingTo, settle } from './ownership'
import type { SessionRepository } from './repository'

export { DiskFullError, isDiskFull } from './ownership'

/** Where sessions are kept: PHONOSCOPE_HOME/sessions, default ~/.phonoscope/sessions. */
export const defaultSessionsDir = (): string =>
  join(process.env.PHONOSCOPE_HOME ?? join(homedir(), '.phonoscope'), 'sessions')

export function newSessionId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${stamp}-${Math.random().toString(36).slice(2, 6).padEnd(4, '0')}`
}

const SESSION_LOCK = 'session.lock'
const PATIENTS = 'patients.json'

/** Patients whose id or name contains `query` (case-insensitive; all without one), by id: for every repository. */
export function patientsMatching(all: Patient[], query?: string): Patient[] {
  const q = query?.toLowerCase()
  const found = q === undefined ? all : all.filter((p) => `${p.id}\n${p.name ?? ''}`.toLowerCase().includes(q))
  return found.sort((a, b) => a.id.localeCompare(b.id))
}

/**
 * Sessions on disk: <dir>/<id>/session.json and <dir>/<id>/<site>.wav (the site's sound, 16-bit PCM, appended as it
 * arrives). Ids are checked against a strict pattern, so a request can never name a path outside the sessions folder.
 *
 * Several processes (recorders, servers, the app) may share one store, so ownership is part of the store's contract:
 * a process holds the sessions it has open (held-*.lock), a site's writer holds <site>.lock (one writer per site,
 * across processes), and session.json changes only by read-modify-write under session.lock, each writer changing
 * only its own site, so no update is lost. A lock names its process (owner-lock.ts); one whose process is gone is
 * stale. What a session is, as read, accounts for stale owners without writing anything (listing must work on a full
 * disk and never disturb a live recording); recover() makes it so on disk.
 */
export class SessionStore implements SessionRepository {
  private readonly holds = new Holds((id) => this.folder(id))

  constructor(readonly dir: string) {}

  get location(): string {
    return this.dir
  }

  /**
   * Run at start-up: a site still marked as recording whose writer is gone was cut off (crash, kill, power). Its WAV
   * is repaired to cover every byte that reached the disk and it is marked interrupted, never dropped; so is a
   * session that no running process holds. Sessions with a live owner are left alone. Returns the sessions repaired.
   */
  async recover(): Promise<string[]> {
    await savingTo(this.dir, () => mkdir(this.dir, { recursive: true }))
    const repaired: string[] = []
    for (const id of await this.ids()) {
      if (!(await this.inspect(id).catch(() => undefined))?.orphaned) continue
      const folder = this.folder(id)
      const changed = await savingTo(folder, () =>
        withLock(join(folder, SESSION_LOCK), async () => {
          const info = await this.read(id)
          const owners = await ownersOf(folder)
          if (!(await settle(info, owners, (site) => this.sitePath(id, site), repairWav))) return false
          await this.write(info)
          await Promise.all(owners.stale.map((path) => unlink(path).catch(() => undefined)))
          return true
        }),
      )
      if (changed) repaired.push(id)
    }
    return repaired
  }

  /** Saves a new session, held open by this process (see hold). */
  async create(info: SessionInfo): Promise<void> {
    await this.hold(info.id) // first: no other process's recover may see the session unheld
    await savingTo(this.folder(info.id), () => this.write(info))
  }

  /** This process has the session open until letGo (or its end): no other process's recover interrupts it. */
  hold(id: string): Promise<void> {
    return this.holds.hold(id)
  }

  letGo(id: string): Promise<void> {
    return this.holds.letGo(id)
  }

  /** Every session this store holds open (shutdown). */
  letGoAll(): Promise<void> {
    return this.holds.letGoAll()
  }

  /**
   * Makes this process the site's only writer until the returned release is called. Refuses (InputError) while
   * another running process records that site.
   */
  async claimSite(id: string, site: Site): Promise<() => Promise<void>> {
    await this.readText(id) // an unknown session is an InputError, not a missing folder
    return this.holds.claimSite(id, site)
  }

  /** A WAV writer for the site (the caller holds claimSite). */
  openWav(id: string, site: Site, sampleRate: number): Promise<WavWriter> {
    return savingTo(this.folder(id), () => WavWriter.create(this.sitePath(id, site), sampleRate))
  }

  /**
   * Changes a session as one step across processes: `change` is applied to the session as it is on disk now, under
   * its lock, and saved. Returns the saved session.
   */
  async update(id: string, change: (info: SessionInfo) => void): Promise<SessionInfo> {
    const folder = this.folder(id)
    await this.readText(id) // an unknown session is not_found, not a lock in a missing folder
    return savingTo(folder, () =>
      withLock(join(folder, SESSION_LOCK), async () => {
        const info = await this.read(id)
        change(info)
        await this.write(info)
        return info
      }),
    )
  }

  async list(filter: SessionFilter = {}): Promise<SessionInfo[]> {
    const patients = new Map((await this.patients()).map((p) => [p.id, p]))
    const matching = (await this.whole()).filter((s) => sessionMatches(s, filter, patients.get(s.patient)))
    return newestPage(matching, filter).map(listed)
  }

  /** Every session that reads, whole (its windows too): what a migration into a database copies. */
  async whole(): Promise<SessionInfo[]> {
    const sessions = await Promise.all((await this.ids()).map((id) => this.get(id).catch(() => undefined)))
    return sessions.filter((s): s is SessionInfo => s !== undefined)
  }

  async remove(id: string): Promise<void> {
    const folder = this.folder(id)
    await this.readText(id) // an unknown session is not_found
    // renamed first, so no reader ever sees half a session; then its audio really goes
    const doomed = join(this.dir, `.deleted-${id}-${randomBytes(4).toString('hex')}`)
    await rename(folder, doomed)
    await rm(doomed, { recursive: true, force: true })
  }

  async put(info: SessionInfo, audio: Partial<Record<Site, string>>): Promise<void> {
    const folder = this.folder(info.id)
    if (existsSync(folder)) throw new InputError(`session ${info.id}`, 'exists already', 'conflict')
    // built beside and renamed into place: a crash leaves no half-imported session
    const staging = join(this.dir, `.staging-${info.id}`)
    await savingTo(this.dir, async () => {
      await rm(staging, { recursive: true, force: true })
      await mkdir(staging, { recursive: true, mode: 0o700 })
      for (const [site, wav] of Object.entries(audio)) await copyFile(wav, join(staging, `${site}.wav`))
      await writeFile(join(staging, 'session.json'), JSON.stringify(info, null, 1), { mode: 0o600 })
      await rename(staging, folder)
    })
  }

  async findRecording(sha256: string): Promise<{ session: string; site: Site } | undefined> {
    for (const info of await this.list()) {
      const site = info.sites.find((s) => s.sha256 === sha256)
      if (site) return { session: info.id, site: site.site }
    }
    return undefined
  }

  async patients(query?: string): Promise<Patient[]> {
    return patientsMatching(await this.readPatients(), query)
  }

  async patient(id: string): Promise<Patient | undefined> {
    return (await this.readPatients()).find((p) => p.id === id)
  }

  async savePatient(patient: Patient): Promise<Patient> {
    await savingTo(this.dir, async () => {
      await mkdir(this.dir, { recursive: true })
      await withLock(join(this.dir, 'patients.lock'), async () => {
        const others = (await this.readPatients()).filter((p) => p.id !== patient.id)
        await replaceFile(join(this.dir, PATIENTS), JSON.stringify([...others, patient], null, 1))
      })
    })
    return patient
  }

  private async readPatients(): Promise<Patient[]> {
    const text = await readFile(join(this.dir, PATIENTS), 'utf8').catch(() => '[]')
    return JSON.parse(text) as Patient[]
  }

  /** The session as it stands: a site or session whose owner is gone reads as interrupted (see recover). */
  async get(id: string): Promise<SessionInfo> {
    return (await this.inspect(id)).info
  }

  sitePath(id: string, site: Site): string {
    return join(this.folder(id), `${site}.wav`)
  }

  folder(id: string): string {
    if (!SESSION_ID.test(id)) throw new InputError(`session ${JSON.stringify(id).slice(0, 40)}`, 'not a session id')
    return join(this.dir, id)
  }

  private async ids(): Promise<string[]> {
    if (!existsSync(this.dir)) return []
    return (await readdir(this.dir)).filter((id) => SESSION_ID.test(id)).sort()
  }

  /** The session with stale owners accounted for, and whether any were (`orphaned`), without writing. */
  private async inspect(id: string): Promise<{ info: SessionInfo; orphaned: boolean }> {
    for (;;) {
      const text = await this.readText(id)
      const info = JSON.parse(text) as SessionInfo
      if (info.status !== 'recording' && !info.sites.some((s) => s.status === 'recording')) {
        return { info, orphaned: false }
      }
      const owners = await ownersOf(this.folder(id))
      // owners are judged against the session as it was while they were read: a writer that finished meanwhile
      // (saved, then released its lock) must not read as gone
      if ((await this.readText(id)) !== text) continue
      return { info, orphaned: await settle(info, owners, (site) => this.sitePath(id, site), framesOnDisk) }
    }
  }

  private async read(id: string): Promise<SessionInfo> {
    return JSON.parse(await this.readText(id)) as SessionInfo
  }

  private async readText(id: string): Promise<string> {
    try {
      return await readFile(join(this.folder(id), 'session.json'), 'utf8')
    } catch (error) {
      if (error instanceof InputError) throw error
      throw new InputError(`session ${id}`, 'not found', 'not_found')
    }
  }

  /** session.json is replaced atomically (replaceFile). */
  private async write(info: SessionInfo): Promise<void> {
    await replaceFile(join(this.folder(info.id), 'session.json'), JSON.stringify(info, null, 1))
  }
}

/** A file replaced atomically, readable by the user only; a write that fails (a full disk) leaves no temp file. */
async function replaceFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`
  try {
    await writeFile(tmp, text, { mode: 0o600 })
    await rename(tmp, path)
  } catch (error) {
    await unlink(tmp).catch(() => undefined)
    throw error
  }
}
