import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Site } from '../../src/core/api/app'
import { WavWriter } from '../../src/core/audio/wav-writer'
import type { SessionRepository } from '../../src/core/sessions/repository'
import { SqliteStore } from '../../src/core/sessions/sqlite-store'
import { SessionStore } from '../../src/core/sessions/store'
import { samplesOf } from '../helpers/audio'
import { REPO_ROOT } from '../helpers/paths'
import { describedExam, exam } from '../helpers/sessions'

const fresh = (name: string): string => mkdtempSync(join(tmpdir(), `phonoscope-${name}-`))

/** Both implementations of the repository, each on a folder of its own. */
const IMPLEMENTATIONS: [string, () => SessionRepository][] = [
  ['JSON folders (SessionStore)', () => new SessionStore(fresh('json'))],
  ['SQLite (SqliteStore)', () => new SqliteStore(fresh('sqlite'))],
]

async function wav(path: string, samples: number[]): Promise<string> {
  const writer = await WavWriter.create(path, 4000)
  await writer.append(Float64Array.from(samples))
  await writer.close()
  return path
}

describe.each(IMPLEMENTATIONS)('the repository contract: %s', (_, open) => {
  it('creates, gets and updates a session, every field kept as it was', async () => {
    const repo = open()
    const info = exam('20260101-100000-aaaa')
    await repo.create(info)
    expect(await repo.get(info.id)).toEqual(info)
    const updated = await repo.update(info.id, (s) => {
      s.notes = 'second look'
      delete s.finding
      s.sites[1]!.status = 'skipped'
    })
    expect(updated.notes).toBe('second look')
    const stored = await repo.get(info.id)
    expect(stored).toEqual(updated)
    expect(stored.finding).toBeUndefined()
    expect(stored.sites[0]!.heart_rate_bpm).toBeNull()
    await repo.letGoAll()
  })

  it("lists each site's summary (no windows, heart sounds or verdict windows); get gives it whole", async () => {
    const repo = open()
    const info = exam('20260101-100000-aaaa')
    info.sites[0]!.windows = [{ site: 'AV', index: 0, start_s: 0, end_s: 2.5 } as never] // enough to be kept
    await repo.create(info)
    const [site] = (await repo.list())[0]!.sites
    expect(site).toEqual({
      site: 'AV',
      status: 'done',
      duration_s: 2.5,
      sample_rate: 4000,
      windows: [],
      probabilities: info.sites[0]!.probabilities,
      verdict: 'normal',
      quality: info.sites[0]!.quality,
      sha256: info.sites[0]!.sha256,
      imported_from: 'a.wav',
      finding: info.sites[0]!.finding,
    })
    expect(await repo.get(info.id)).toEqual(info)
    await repo.letGoAll()
  })

  it("keeps a murmur site's descriptors as they were, and clears them with the site's result; lists none", async () => {
    const repo = open()
    const info = describedExam('20260101-100000-aaaa')
    await repo.create(info)
    expect(await repo.get(info.id)).toEqual(info)
    expect((await repo.list())[0]!.sites[0]).not.toHaveProperty('descriptors')
    const cleared = await repo.update(info.id, (s) => void delete s.sites[0]!.descriptors)
    expect(await repo.get(info.id)).toEqual(cleared)
    expect(cleared.sites[0]).not.toHaveProperty('descriptors')
    await repo.letGoAll()
  })

  it('refuses unknown and malformed ids: not_found and input', async () => {
    const repo = open()
    await expect(repo.get('20260101-100000-none')).rejects.toMatchObject({ kind: 'not_found' })
    await expect(repo.update('20260101-100000-none', () => undefined)).rejects.toMatchObject({ kind: 'not_found' })
    await expect(repo.remove('20260101-100000-none')).rejects.toMatchObject({ kind: 'not_found' })
    await expect(repo.get('../../etc')).rejects.toMatchObject({ kind: 'input' })
  })

  it('lists oldest first and filters by patient, words, dates and verdict (sessionMatches)', async () => {
    const repo = open()
    await repo.savePatient({ id: 'MRN-2', name: 'Ada Lovelace' })
    await repo.create(exam('20260301-100000-cccc', { patient: 'MRN-2', verdict: 'mild', notes: '' }))
    await repo.create(exam('20260101-100000-aaaa'))
    const withheld = exam('20260201-100000-bbbb', { notes: 'noisy room' })
    delete withheld.verdict
    await repo.create(withheld)
    const ids = async (filter = {}) => (await repo.list(filter)).map((s) => s.id.slice(0, 8))
    expect(await ids()).toEqual(['20260101', '20260201', '20260301'])
    expect(await ids({ patient: 'MRN-2' })).toEqual(['20260301'])
    expect(await ids({ query: 'lovelace' })).toEqual(['20260301'])
    expect(await ids({ query: 'NOISY' })).toEqual(['20260201'])
    expect(await ids({ from: '2026-02-01', to: '2026-03-01' })).toEqual(['20260201', '20260301'])
    expect(await ids({ verdict: 'withheld' })).toEqual(['20260201'])
    expect(await ids({ verdict: 'mild' })).toEqual(['20260301'])
    await repo.letGoAll()
  })

  it('lists in pages (the newest `limit`, then those `before` the oldest shown) and by status', async () => {
    const repo = open()
    const days = Array.from({ length: 70 }, (_, i) => `202601${String(1 + (i % 28)).padStart(2, '0')}`)
    const ids = days.map((day, i) => `${day}-${String(100000 + i)}-aaaa`).sort()
    for (const [i, id] of ids.entries())
      await repo.create(
        exam(id, { patient: i % 2 ? 'MRN-odd' : 'MRN-even', status: i === 3 ? 'incomplete' : 'complete' }),
      )
    const listed = async (filter = {}) => (await repo.list(filter)).map((s) => s.id)
    expect(await listed({ limit: 30 })).toEqual(ids.slice(-30))
    expect(await listed({ limit: 30, before: ids.at(-30) })).toEqual(ids.slice(-60, -30))
    expect(await listed({ limit: 30, before: ids.at(-60) })).toEqual(ids.slice(0, -60)) // the last page: short
    expect(await listed({ limit: 5, patient: 'MRN-odd' })).toEqual(ids.filter((_, i) => i % 2).slice(-5))
    expect(await listed({ limit: 1000 })).toEqual(ids)
    expect(await listed({ status: 'incomplete' })).toEqual([ids[3]])
    expect(await listed({ status: 'recording' })).toEqual([])
    await repo.letGoAll()
  })

  it('removes a session and its audio for good', async () => {
    const repo = open()
    const info = exam('20260101-100000-aaaa')
    await repo.create(info)
    await wav(repo.sitePath(info.id, 'AV'), [0.1])
    await repo.letGoAll()
    await repo.remove(info.id)
    expect(await repo.list()).toEqual([])
    expect(existsSync(repo.folder(info.id))).toBe(false)
    await expect(repo.get(info.id)).rejects.toMatchObject({ kind: 'not_found' })
  })

  it('files a finished exam with its audio (put), refuses its id twice, and finds it by sha256', async () => {
    const repo = open()
    const source = await wav(join(fresh('wav'), 'in.wav'), [0.25, -0.5, 0.125])
    const info = exam('20260101-100000-aaaa')
    await repo.put(info, { AV: source })
    expect(await repo.get(info.id)).toEqual(info)
    expect(Array.from(await samplesOf(repo.sitePath(info.id, 'AV')))).toEqual([0.25, -0.5, 0.125])
    await expect(repo.put(info, {})).rejects.toMatchObject({ kind: 'conflict' })
    expect(await repo.findRecording(`sha-${info.id}`)).toEqual({ session: info.id, site: 'AV' })
    expect(await repo.findRecording('sha-none')).toBeUndefined()
  })

  it('keeps patients: create, replace, query by id or name, by id', async () => {
    const repo = open()
    await repo.savePatient({ id: 'B-2', name: 'Grace Hopper', birth_year: 2015, sex: 'female' })
    await repo.savePatient({ id: 'A-1', name: 'Alan', age_group: 'child' })
    await repo.savePatient({ id: 'B-2', name: 'Grace B. Hopper' })
    expect(await repo.patients()).toEqual([
      { id: 'A-1', name: 'Alan', age_group: 'child' },
      { id: 'B-2', name: 'Grace B. Hopper' },
    ])
    expect((await repo.patients('hopper')).map((p) => p.id)).toEqual(['B-2'])
    expect((await repo.patients('a-')).map((p) => p.id)).toEqual(['A-1'])
    expect(await repo.patient('A-1')).toEqual({ id: 'A-1', name: 'Alan', age_group: 'child' })
    expect(await repo.patient('C-3')).toBeUndefined()
  })

  it('refuses a second writer of a site while another process records it; takes over once that process is gone', async () => {
    const repo = open()
    const info = exam('20260101-100000-aaaa', { status: 'recording' })
    await repo.create(info)
    const release = await repo.claimSite(info.id, 'PV')
    await release()
    await expect(repo.claimSite('20260101-100000-none', 'AV')).rejects.toMatchObject({ kind: 'not_found' })

    // another process claims PV and stays until told to go
    const child = claimIn(repo, info.id, 'PV')
    await child.claimed
    await expect(repo.claimSite(info.id, 'PV')).rejects.toMatchObject({
      kind: 'conflict',
      message: expect.stringMatching(/is already being recorded by process \d+/),
    })
    child.kill()
    await child.exited
    const mine = await repo.claimSite(info.id, 'PV') // its lock is stale now
    await mine()
    await repo.letGoAll()
  })

  it('recover: a site whose writer is gone reads as interrupted (without writing) and is repaired on disk', async () => {
    const repo = open()
    const info = exam('20260101-100000-aaaa', { status: 'recording' })
    info.sites[1] = { site: 'PV', status: 'recording', duration_s: 0, sample_rate: 4000, windows: [] }
    await repo.create(info)
    const child = claimIn(repo, info.id, 'PV', [0.5, 0.25, -0.25, 0.5])
    await child.claimed
    expect((await repo.get(info.id)).sites[1]!.status).toBe('recording') // its writer runs
    child.kill()
    await child.exited
    const read = await repo.get(info.id)
    expect(read.sites[1]).toMatchObject({ status: 'interrupted', duration_s: 1 / 1000 })
    expect(read.status).toBe('recording') // this process still holds the session
    expect((await repo.list())[0]!.sites[1]!.status).toBe('interrupted')
    expect((await repo.list({ status: 'recording' })).map((s) => s.id)).toEqual([info.id])
    expect(await repo.recover()).toEqual([info.id])
    await repo.letGoAll()
    expect(await repo.recover()).toEqual([info.id]) // nobody holds it now: the session too
    expect((await repo.get(info.id)).status).toBe('interrupted')
    expect(await repo.list({ status: 'recording' })).toEqual([])
    expect((await repo.list({ status: 'interrupted' })).map((s) => s.id)).toEqual([info.id])
    expect(await repo.recover()).toEqual([])
  })
})

/**
 * Another process that opens the same repository, claims a site (writing `samples` to its WAV, unclosed, as a
 * recorder killed midway leaves it) and waits to be killed.
 */
function claimIn(repo: SessionRepository, id: string, site: Site, samples: number[] = []) {
  const opener =
    repo instanceof SqliteStore
      ? `const { SqliteStore } = await import(${JSON.stringify(join(REPO_ROOT, 'src/core/sessions/sqlite-store.ts'))})
         const repo = new SqliteStore(${JSON.stringify(repo.home)})`
      : `const { SessionStore } = await import(${JSON.stringify(join(REPO_ROOT, 'src/core/sessions/store.ts'))})
         const repo = new SessionStore(${JSON.stringify(repo.location)})`
  const script = `${opener}
    await repo.claimSite('${id}', '${site}')
    const writer = await repo.openWav('${id}', '${site}', 4000)
    await writer.append(Float64Array.from(${JSON.stringify(samples)}))
    await writer.flush()
    console.log('claimed')
    setInterval(() => undefined, 1000)`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const claimed = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('claimed') && resolve())
    child.once('exit', (code) => reject(new Error(`the claiming process ended (${code})`)))
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return { claimed, exited, kill: () => child.kill('SIGKILL') }
}
