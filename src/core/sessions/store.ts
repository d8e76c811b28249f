import { existsSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { SessionInfo, Site } from '../api/app'
import { InputError } from '../errors'

const WAV_HEADER_BYTES = 44
const SESSION_ID = /^[0-9]{8}-[0-9]{6}-[a-z0-9]{4}$/

/** Where sessions are kept: PHONOSCOPE_HOME/sessions, default ~/.phonoscope/sessions. */
export const defaultSessionsDir = (): string =>
  join(process.env.PHONOSCOPE_HOME ?? join(homedir(), '.phonoscope'), 'sessions')

export function newSessionId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${stamp}-${Math.random().toString(36).slice(2, 6).padEnd(4, '0')}`
}

/**
 * Sessions on disk: <dir>/<id>/session.json (rewritten atomically on every change) and <dir>/<id>/<site>.wav (the
 * site's sound, 16-bit PCM, appended as it arrives). Ids are checked against a strict pattern, so a request can
 * never name a path outside the sessions folder.
 */
export class SessionStore {
  constructor(readonly dir: string) {}

  /**
   * Run at start-up: a session still marked as recording was cut off (crash, kill, power). Its WAVs are repaired to
   * cover every byte that reached the disk, and it is marked interrupted, never dropped.
   */
  async recover(): Promise<string[]> {
    await mkdir(this.dir, { recursive: true })
    const repaired: string[] = []
    for (const info of await this.list()) {
      if (info.status !== 'recording') continue
      for (const site of info.sites) {
        if (site.status === 'recording') site.status = 'interrupted'
        const wav = this.sitePath(info.id, site.site)
        if (existsSync(wav)) {
          const { frames, sampleRate } = await repairWav(wav)
          site.duration_s = frames / sampleRate
        }
      }
      info.status = 'interrupted'
      await this.save(info)
      repaired.push(info.id)
    }
    return repaired
  }

  async save(info: SessionInfo): Promise<void> {
    const folder = this.folder(info.id)
    await mkdir(folder, { recursive: true })
    const tmp = join(folder, 'session.json.tmp')
    await writeFile(tmp, JSON.stringify(info, null, 1))
    await rename(tmp, join(folder, 'session.json'))
  }

  async list(): Promise<SessionInfo[]> {
    if (!existsSync(this.dir)) return []
    const ids = (await readdir(this.dir)).filter((id) => SESSION_ID.test(id)).sort()
    const sessions = await Promise.all(ids.map((id) => this.get(id).catch(() => undefined)))
    return sessions.filter((s): s is SessionInfo => s !== undefined)
  }

  async get(id: string): Promise<SessionInfo> {
    try {
      return JSON.parse(await readFile(join(this.folder(id), 'session.json'), 'utf8')) as SessionInfo
    } catch (error) {
      if (error instanceof InputError) throw error
      throw new InputError(`session ${id}`, 'not found')
    }
  }

  sitePath(id: string, site: Site): string {
    return join(this.folder(id), `${site}.wav`)
  }

  private folder(id: string): string {
    if (!SESSION_ID.test(id)) throw new InputError(`session ${JSON.stringify(id).slice(0, 40)}`, 'not a session id')
    return join(this.dir, id)
  }
}

/**
 * Makes a 16-bit mono WAV whose writer was killed valid again: its header sizes are set to cover every whole sample
 * on disk (the writer rewrites them on each flush, so at most the last second's sizes are stale).
 */
export async function repairWav(path: string): Promise<{ frames: number; sampleRate: number }> {
  const size = (await stat(path)).size
  const frames = Math.max(0, Math.floor((size - WAV_HEADER_BYTES) / 2))
  const file = await open(path, 'r+')
  try {
    const rate = Buffer.alloc(4)
    await file.read(rate, 0, 4, 24)
    const sizes = Buffer.alloc(4)
    sizes.writeUInt32LE(36 + frames * 2)
    await file.write(sizes, 0, 4, 4)
    sizes.writeUInt32LE(frames * 2)
    await file.write(sizes, 0, 4, 40)
    await file.truncate(WAV_HEADER_BYTES + frames * 2)
    return { frames, sampleRate: rate.readUInt32LE(0) }
  } finally {
    await file.close()
  }
}
