import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { SITES, type SessionInfo, type Site } from '../api/app'
import { InputError } from '../errors'
import { isAlive, ownerOf, self, tryLock, unlock } from './owner-lock'

/**
 * Who has a session open, as lock files beside its audio, for every repository: a process holds the sessions it has
 * open (held-*.lock) and a site's writer holds <site>.lock (one writer per site, across processes). A lock names its
 * process (owner-lock.ts); one whose process is gone is stale.
 */

/** Which of a session's owners (lock files) still run. */
export interface Owners {
  /** sites whose writer runs */
  sites: Set<string>
  /** whether any process holds the session open (a holder or a site's writer) */
  held: boolean
  /** lock files whose owner is gone */
  stale: string[]
}

const HOLDER = /^held-[0-9a-f]+\.lock$/
const siteLock = (site: string): string => `${site}.lock`

/** The disk (or the user's quota) is full: as the system says it, or as a repository already reported it. */
export const isDiskFull = (error: unknown): boolean =>
  error instanceof DiskFullError ||
  ['ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException | undefined)?.code ?? '')

/** A write refused for lack of space, as an error the user can act on: it names the folder that is full. */
export class DiskFullError extends InputError {
  constructor(folder: string) {
    super(folder, 'the disk is full', 'storage')
  }
}

export async function savingTo<T>(folder: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (error) {
    throw isDiskFull(error) ? new DiskFullError(folder) : error
  }
}

export async function ownersOf(folder: string): Promise<Owners> {
  const owners: Owners = { sites: new Set(), held: false, stale: [] }
  if (!existsSync(folder)) return owners
  const locks = (await readdir(folder)).filter((name) => HOLDER.test(name) || SITES.some((s) => name === siteLock(s)))
  for (const name of locks) {
    const path = join(folder, name)
    const owner = await ownerOf(path)
    if (!owner || !isAlive(owner)) {
      owners.stale.push(path)
      continue
    }
    owners.held = true
    if (!HOLDER.test(name)) owners.sites.add(name.slice(0, -'.lock'.length))
  }
  return owners
}

/**
 * Marks what stale owners left: sites recording without a writer are interrupted, their duration every whole sample
 * on disk (`frames` reads or repairs the WAV at the path); the session too when nobody holds it. Returns whether
 * anything changed.
 */
export async function settle(
  info: SessionInfo,
  owners: Owners,
  wavOf: (site: Site) => string,
  frames: (wav: string) => Promise<{ frames: number; sampleRate: number }>,
): Promise<boolean> {
  let changed = false
  for (const site of info.sites) {
    if (site.status !== 'recording' || owners.sites.has(site.site)) continue
    const wav = wavOf(site.site)
    if (existsSync(wav)) {
      const kept = await frames(wav)
      site.duration_s = kept.frames / kept.sampleRate
    }
    site.status = 'interrupted'
    changed = true
  }
  if (info.status === 'recording' && !owners.held) {
    info.status = 'interrupted'
    changed = true
  }
  return changed
}

/** The sessions and sites one repository holds for this process, as lock files in each session's folder. */
export class Holds {
  /** held-*.lock of each session held open */
  private readonly holds = new Map<string, string>()

  constructor(private readonly folder: (id: string) => string) {}

  /** The session's folder (0700) exists and this process holds it open until letGo. */
  async hold(id: string): Promise<void> {
    if (this.holds.has(id)) return
    const folder = this.folder(id)
    const path = join(folder, `held-${randomBytes(6).toString('hex')}.lock`)
    await savingTo(folder, async () => {
      await mkdir(folder, { recursive: true, mode: 0o700 })
      await tryLock(path)
    })
    this.holds.set(id, path)
  }

  async letGo(id: string): Promise<void> {
    const path = this.holds.get(id)
    this.holds.delete(id)
    if (path) await unlock(path)
  }

  async letGoAll(): Promise<void> {
    await Promise.all([...this.holds.keys()].map((id) => this.letGo(id)))
  }

  /** This process as the site's only writer until the release; refuses (conflict) while another records it. */
  async claimSite(id: string, site: Site): Promise<() => Promise<void>> {
    const folder = this.folder(id)
    const path = join(folder, siteLock(site))
    const owner = await savingTo(folder, async () => {
      await mkdir(folder, { recursive: true, mode: 0o700 })
      return tryLock(path)
    })
    if (owner) {
      const where = owner.host === self().host ? '' : ` on ${owner.host}`
      throw new InputError(
        `session ${id} site ${site}`,
        `is already being recorded by process ${owner.pid}${where}`,
        'conflict',
      )
    }
    return () => unlock(path)
  }
}
