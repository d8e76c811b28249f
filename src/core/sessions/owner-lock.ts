import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Who holds a lock file: enough for another process to tell whether that very process still runs. A pid alone is
 * not (pids are reused), so on Linux the lock also carries the boot and the process's start time from /proc.
 */
export interface Owner {
  pid: number
  host: string
  /** Linux: /proc/sys/kernel/random/boot_id and field 22 of /proc/<pid>/stat */
  boot?: string
  start?: string
  /** this process's random id: a lock is only ever released by the process that wrote it */
  token: string
}

const PROC = existsSync('/proc/self/stat')
/** How long a short lock (one read-modify-write) is waited for before its live holder is called stuck. */
const WAIT_MS = 10_000

let me: Owner | undefined
/** This process as an owner. */
export function self(): Owner {
  me ??= {
    pid: process.pid,
    host: hostname(),
    ...(PROC && {
      boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      start: startTime(process.pid),
    }),
    token: randomUUID(),
  }
  return me
}

/** Field 22 of /proc/<pid>/stat (start time in ticks since boot); undefined when the process is gone or a zombie. */
function startTime(pid: number): string | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // from field 3 (state) on
  return fields[0] === 'Z' ? undefined : fields[19]
}

/**
 * Whether the process that wrote `owner` still runs. A process on another machine (a shared folder) cannot be
 * checked, so it counts as alive: its work is never taken over. Without /proc only the pid can be checked.
 */
export function isAlive(owner: Owner): boolean {
  if (owner.host !== self().host) return true
  if (PROC) return owner.boot === self().boot && owner.start !== undefined && startTime(owner.pid) === owner.start
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The owner a lock file names; undefined when it is gone or unreadable. */
export const ownerOf = async (path: string): Promise<Owner | undefined> =>
  parseOwner(await readFile(path, 'utf8').catch(() => ''))

function parseOwner(text: string): Owner | undefined {
  try {
    const owner = JSON.parse(text) as Owner
    return typeof owner.pid === 'number' && typeof owner.token === 'string' ? owner : undefined
  } catch {
    return undefined
  }
}

/** A file name next to `path` that no other process, nor another call in this one, uses. */
let asides = 0
const asideOf = (path: string): string => `${path}.${self().token}.${++asides}`

/**
 * Takes the lock file at `path` for this process. Returns undefined when taken, or the live owner that holds it. A
 * lock whose owner is gone is taken over. The file appears with its content in one step (written aside, then
 * hard-linked into place, which fails if it exists), so a reader never mistakes a lock being written for a stale one.
 */
export async function tryLock(path: string): Promise<Owner | undefined> {
  const mine = JSON.stringify(self())
  for (;;) {
    const aside = asideOf(path)
    try {
      await writeFile(aside, mine)
      await link(aside, path)
      return undefined
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    } finally {
      await unlink(aside).catch(() => undefined)
    }
    const text = await readFile(path, 'utf8').catch(() => undefined)
    if (text === undefined) continue // released meanwhile
    const owner = parseOwner(text)
    if (owner && isAlive(owner)) return owner
    await breakStale(path, text)
  }
}

/**
 * Removes a lock whose owner is gone, and only that one: two processes may find the same stale lock, and the slower
 * must not delete the lock the faster has taken since. So the lock is moved aside (atomic) and put back if it turns
 * out not to be the stale one.
 */
async function breakStale(path: string, stale: string): Promise<void> {
  const aside = asideOf(path)
  try {
    await rename(path, aside)
  } catch {
    return // gone already: someone else broke it
  }
  if ((await readFile(aside, 'utf8')) !== stale) await link(aside, path).catch(() => undefined)
  await unlink(aside)
}

/** Releases a lock this process holds; a lock of another owner (taken over meanwhile) is left alone. */
export async function unlock(path: string): Promise<void> {
  if ((await ownerOf(path))?.token === self().token) await unlink(path).catch(() => undefined)
}

/** Runs `action` holding the short lock at `path`, waiting while another live process holds it. */
export async function withLock<T>(path: string, action: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (let owner = await tryLock(path); owner; owner = await tryLock(path)) {
    if (Date.now() > deadline) throw new Error(`${path}: held by process ${owner.pid} for over ${WAIT_MS / 1000} s`)
    await sleep(2 + Math.random() * 8)
  }
  try {
    return await action()
  } finally {
    await unlock(path)
  }
}
