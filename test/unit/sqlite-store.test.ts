import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SITES, type SessionInfo } from '../../src/core/api/app'
import { WavWriter } from '../../src/core/audio/wav-writer'
import { defaultHome } from '../../src/core/sessions/home'
import { listed } from '../../src/core/sessions/filter'
import { MIGRATIONS, SCHEMA_VERSION, versionOf } from '../../src/core/sessions/migrations'
import { openRepository } from '../../src/core/sessions/open'
import { SqliteStore } from '../../src/core/sessions/sqlite-store'
import { SessionStore } from '../../src/core/sessions/store'
import { REPO_ROOT } from '../helpers/paths'
import { DESCRIPTORS, exam } from '../helpers/sessions'

const fresh = (name: string): string => mkdtempSync(join(tmpdir(), `phonoscope-${name}-`))
const modeOf = (path: string): number => statSync(path).mode & 0o777

async function wavAt(path: string, samples: number[]): Promise<void> {
  const writer = await WavWriter.create(path, 4000)
  await writer.append(Float64Array.from(samples))
  await writer.close()
}

/** Runs `body` (an ES module's text, `store` open on `home`) in a process of its own; resolves with its exit code. */
function inProcess(home: string, body: string): Promise<number | null> {
  const script = `const { SqliteStore } = await import(${JSON.stringify(join(REPO_ROOT, 'src/core/sessions/sqlite-store.ts'))})
    const store = new SqliteStore(${JSON.stringify(home)})
    ${body}`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

/** A site's window as version 1 kept it, inside the sites table. */
const WINDOWS = [{ site: 'AV', index: 0, start_s: 0, end_s: 2.5, attention: { time: 1, freq: 1, data: [1] } }]

/** A database in `home` as schema `version` left it, holding one examination's row (its sites are the test's). */
function olderDatabase(home: string, version: number): { db: Database.Database; info: SessionInfo } {
  const db = new Database(join(home, 'phonoscope.db'))
  MIGRATIONS.slice(0, version).forEach((step) => step(db))
  db.pragma(`user_version = ${version}`)
  const info = exam('20260101-100000-aaaa')
  db.prepare(
    `INSERT INTO examinations (id, created, patient, status, source, model, notes, dropped_windows)
     VALUES (?, ?, ?, 'complete', ?, ?, ?, 0)`,
  ).run(info.id, info.created, info.patient, JSON.stringify(info.source), JSON.stringify(info.model), info.notes)
  return { db, info }
}

describe('the SQLite repository', () => {
  it('migrates a version 1 database to the current schema, keeping its exams and a backup of it as it was', async () => {
    const home = fresh('v1')
    const { db: v1, info } = olderDatabase(home, 1)
    v1.prepare(
      `INSERT INTO sites (exam, position, site, status, duration_s, sample_rate, windows) VALUES (?, 0, 'AV', 'done', 2.5, 4000, ?)`,
    ).run(info.id, JSON.stringify(WINDOWS))
    v1.close()

    const store = new SqliteStore(home)
    const [got] = await store.list()
    // its listing filled in on opening (v5), as the listing gives it
    const filled = new Database(join(home, 'phonoscope.db'), { readonly: true })
    expect(JSON.parse(filled.prepare('SELECT listed FROM examinations').pluck().get() as string)).toEqual(got)
    filled.close()
    expect(got).toMatchObject({
      id: info.id,
      notes: info.notes,
      sites: [{ site: 'AV', status: 'done', duration_s: 2.5 }],
    })
    expect((await store.get(info.id)).sites[0]!.windows).toEqual(WINDOWS) // moved to a table of their own (v3)
    await store.update(info.id, (s) => void (s.sites[0]!.sha256 = 'abc')) // a column version 2 added
    expect(await store.findRecording('abc')).toEqual({ session: info.id, site: 'AV' })
    store.close()

    const db = new Database(join(home, 'phonoscope.db'), { readonly: true })
    expect(versionOf(db)).toBe(SCHEMA_VERSION)
    db.close()
    const [backup] = readdirSync(join(home, 'backups'))
    expect(backup).toMatch(/^phonoscope-v1-\d+\.db$/)
    const kept = new Database(join(home, 'backups', backup!), { readonly: true })
    expect(versionOf(kept)).toBe(1)
    expect(kept.prepare('SELECT id FROM examinations').pluck().all()).toEqual([info.id])
    kept.close()
  })

  it("migrates a version 5 database (no sites' descriptors): its exams as they were, descriptors kept from then on", async () => {
    const home = fresh('v5')
    const { db: v5, info } = olderDatabase(home, 5)
    v5.prepare(
      `INSERT INTO sites (exam, position, site, status, duration_s, sample_rate, verdict) VALUES (?, 0, 'AV', 'done', 2.5, 4000, 'mild')`,
    ).run(info.id)
    v5.prepare(`INSERT INTO site_windows (exam, site, windows) VALUES (?, 'AV', '[]')`).run(info.id)
    v5.close()

    const store = new SqliteStore(home)
    const [site] = (await store.get(info.id)).sites
    expect(site).toEqual({
      site: 'AV',
      status: 'done',
      duration_s: 2.5,
      sample_rate: 4000,
      verdict: 'mild',
      windows: [],
    })
    const described = await store.update(info.id, (s) => void (s.sites[0]!.descriptors = DESCRIPTORS))
    store.close()
    expect(await new SqliteStore(home).get(info.id)).toEqual(described)
    const db = new Database(join(home, 'phonoscope.db'), { readonly: true })
    expect(versionOf(db)).toBe(SCHEMA_VERSION)
    expect(JSON.parse(db.prepare('SELECT descriptors FROM sites WHERE site = ?').pluck().get('AV') as string)).toEqual(
      DESCRIPTORS,
    )
    db.close()
    expect(readdirSync(join(home, 'backups'))).toEqual([expect.stringMatching(/^phonoscope-v5-\d+\.db$/)])
  })

  it('refuses a database newer than itself with a storage error', async () => {
    const home = fresh('newer')
    const db = new Database(join(home, 'phonoscope.db'))
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    await expect(new SqliteStore(home).list()).rejects.toMatchObject({
      kind: 'storage',
      message: expect.stringMatching(/phonoscope\.db: .*newer than this Phonoscope/),
    })
  })

  it('imports the JSON sessions of earlier versions on first open, audio and patients too, once, nothing lost', async () => {
    const user = fresh('user')
    const legacy = new SessionStore(join(user, '.phonoscope', 'sessions'))
    const first = exam('20250101-100000-aaaa')
    const second = exam('20250102-100000-bbbb', { patient: 'MRN-2' })
    for (const info of [first, second]) await legacy.create(info)
    await wavAt(legacy.sitePath(first.id, 'AV'), [0.5, -0.5])
    await legacy.savePatient({ id: 'MRN-2', name: 'Ada' })
    await legacy.letGoAll()
    const before = readdirSync(legacy.dir, { recursive: true, encoding: 'utf8' }).sort()

    // the real environment (os.homedir reads HOME from it), put back after
    const keys = ['HOME', 'PHONOSCOPE_HOME', 'XDG_DATA_HOME'] as const
    const saved = keys.map((key) => process.env[key])
    Object.assign(process.env, { HOME: user, PHONOSCOPE_HOME: '', XDG_DATA_HOME: '' })
    try {
      const store = openRepository()
      expect(store.home).toBe(join(user, '.local', 'share', 'phonoscope'))
      expect(await store.list()).toEqual([first, second].map(listed))
      expect(await store.patients()).toEqual([{ id: 'MRN-2', name: 'Ada' }])
      expect(readFileSync(store.sitePath(first.id, 'AV'))).toEqual(readFileSync(legacy.sitePath(first.id, 'AV')))
      expect(readdirSync(legacy.dir, { recursive: true, encoding: 'utf8' }).sort()).toEqual(before) // as it was

      await store.remove(second.id)
      store.close()
      const again = openRepository()
      expect((await again.list()).map((s) => s.id)).toEqual([first.id]) // imported once: deleted stays deleted
      again.close()
    } finally {
      keys.forEach((key, i) => (saved[i] === undefined ? delete process.env[key] : (process.env[key] = saved[i])))
    }
  })

  it('imports an old PHONOSCOPE_HOME (<home>/sessions, in place) and an old --sessions folder (copied in)', async () => {
    const home = fresh('old-home')
    const inPlace = new SessionStore(join(home, 'sessions'))
    const asOption = new SessionStore(home) // `--sessions <home>` once meant the session folders themselves
    const [kept, copied] = [exam('20250101-100000-aaaa'), exam('20250102-100000-bbbb')]
    await inPlace.create(kept)
    await wavAt(inPlace.sitePath(kept.id, 'AV'), [0.25])
    await asOption.create(copied)
    await wavAt(asOption.sitePath(copied.id, 'AV'), [-0.25])
    for (const store of [inPlace, asOption]) await store.letGoAll()

    const store = openRepository(home)
    expect(await store.list()).toEqual([kept, copied].map(listed))
    expect(store.sitePath(kept.id, 'AV')).toBe(inPlace.sitePath(kept.id, 'AV'))
    expect(readFileSync(store.sitePath(copied.id, 'AV'))).toEqual(readFileSync(asOption.sitePath(copied.id, 'AV')))
    store.close()
  })

  it('a crash in the middle of a save leaves the previous state', async () => {
    const home = fresh('midsave')
    const store = new SqliteStore(home)
    const info = exam('20260101-100000-aaaa')
    await store.create(info)
    // killed while the new state is half written: the exam's row updated, its sites deleted, the next insert reading
    const code = await inProcess(
      home,
      `await store.update('${info.id}', (s) => {
        s.notes = 'half'
        Object.defineProperty(s.sites[1], 'status', { get: () => process.kill(process.pid, 'SIGKILL') })
      })`,
    )
    expect(code).toBeNull() // killed
    store.close()
    const reopened = new SqliteStore(home)
    expect(await reopened.get(info.id)).toEqual(info)
    expect(JSON.parse(readFileSync(join(reopened.folder(info.id), 'session.json'), 'utf8'))).toEqual(info)
    await store.letGoAll()
  })

  it('loses no update when four processes change their own sites of one session at once', async () => {
    const home = fresh('updates')
    const store = new SqliteStore(home)
    const info = exam('20260101-100000-aaaa', {
      sites: SITES.map((site) => ({ site, status: 'pending', duration_s: 0, sample_rate: 0, windows: [] })),
    })
    await store.create(info)
    const updates = 40
    const writers = SITES.map((_, site) =>
      inProcess(
        home,
        `for (let i = 0; i < ${updates}; i++) await store.update('${info.id}', (s) => void (s.sites[${site}].duration_s += 1))`,
      ),
    )
    expect(await Promise.all(writers)).toEqual(SITES.map(() => 0))
    expect((await store.get(info.id)).sites.map((s) => s.duration_s)).toEqual(SITES.map(() => updates))
    await store.letGoAll()
  })

  it('a damaged database is a clear storage error naming the file and the way out; rebuild brings every exam back', async () => {
    const home = fresh('damaged')
    const store = new SqliteStore(home)
    const exams = [exam('20260101-100000-aaaa'), exam('20260102-100000-bbbb', { patient: 'MRN-2' })]
    for (const info of exams) await store.create(info)
    await store.savePatient({ id: 'MRN-2', name: 'Ada', sex: 'female' })
    await store.recover() // the daily backup
    await store.letGoAll()
    store.close()
    writeFileSync(join(home, 'phonoscope.db'), Buffer.alloc(8192, 7)) // not a database any more

    const damaged = new SqliteStore(home)
    const error = await damaged.list().catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'InputError', kind: 'storage' })
    const message = (error as Error).message
    expect(message).toContain(join(home, 'phonoscope.db'))
    expect(message).toContain('phonoscope sessions rebuild')
    expect(message).toContain(join(home, 'backups', `phonoscope-${new Date().toISOString().slice(0, 10)}.db`))
    await expect(damaged.recover()).rejects.toMatchObject({ kind: 'storage' }) // every start says so, no crash

    const rebuilt = await damaged.rebuild()
    expect(rebuilt.sessions).toBe(2)
    expect(existsSync(rebuilt.damaged!)).toBe(true) // kept, never deleted
    expect(await damaged.list()).toEqual(exams.map(listed))
    expect(await damaged.patients()).toEqual([{ id: 'MRN-2', name: 'Ada', sex: 'female' }])
    damaged.close()
  })

  it('damage inside a page reads as a damaged database too: its pages, or a JSON column', async () => {
    for (const damage of ['pages', 'column'] as const) {
      const home = fresh(`damaged-${damage}`)
      const store = new SqliteStore(home)
      await store.create(exam('20260101-100000-aaaa'))
      await store.letGoAll()
      store.close()
      const path = join(home, 'phonoscope.db')
      if (damage === 'pages') {
        const bytes = readFileSync(path)
        bytes.fill(0xff, 4096) // every page but the first (the schema)
        writeFileSync(path, bytes)
      } else {
        const db = new Database(path)
        db.prepare("UPDATE examinations SET listed = '[{'").run()
        db.close()
      }
      await expect(new SqliteStore(home).list()).rejects.toMatchObject({
        kind: 'storage',
        message: expect.stringContaining(`${path}: the database is damaged`),
      })
    }
  })

  it('lists each exam as last saved, whether many changed since the last listing or a few', async () => {
    const home = fresh('listings')
    const store = new SqliteStore(home)
    const ids = Array.from({ length: 70 }, (_, i) => `20260101-1000${String(i).padStart(2, '0')}-aaaa`)
    for (const id of ids) await store.create(exam(id))
    expect((await store.list()).map((s) => s.id)).toEqual(ids) // 70 new: one pass over them all
    await store.update(ids[3]!, (s) => void (s.notes = 'edited'))
    const again = await store.list() // one changed: read alone
    expect(again[3]!.notes).toBe('edited')
    expect(again).toEqual(await new SqliteStore(home).list())
    // a first page of a fresh store (66 new: one pass over their ids' range), and the next one
    const other = new SqliteStore(home)
    const page = await other.list({ limit: 66 })
    expect(page).toEqual(again.slice(-66))
    expect(await other.list({ limit: 66, before: page[0]!.id })).toEqual(again.slice(0, 4))
    await store.letGoAll()
  })

  it('keeps the last seven daily backups', async () => {
    const home = fresh('backups')
    mkdirSync(join(home, 'backups'))
    const old = Array.from({ length: 8 }, (_, i) => `phonoscope-2025-01-0${i + 1}.db`)
    for (const name of old) writeFileSync(join(home, 'backups', name), '')
    const store = new SqliteStore(home)
    await store.create(exam('20260101-100000-aaaa'))
    await store.recover()
    const today = `phonoscope-${new Date().toISOString().slice(0, 10)}.db`
    expect(readdirSync(join(home, 'backups')).sort()).toEqual([...old.slice(2), today])
    await store.letGoAll()
    store.close()
  })

  it('keeps every file readable by the user only', async () => {
    const home = join(fresh('modes'), 'home')
    const store = new SqliteStore(home)
    const info = exam('20260101-100000-aaaa')
    await store.create(info)
    const writer = await store.openWav(info.id, 'AV', 4000)
    await writer.close()
    await store.savePatient({ id: 'MRN-1' })
    await store.recover()
    const files = [
      'phonoscope.db',
      'phonoscope.db-wal',
      'phonoscope.db-shm',
      `sessions/${info.id}/session.json`,
      `sessions/${info.id}/AV.wav`,
      'sessions/patients.json',
      `backups/${readdirSync(join(home, 'backups'))[0]}`,
    ]
    for (const file of files) expect([file, modeOf(join(home, file))]).toEqual([file, 0o600])
    for (const folder of ['', 'sessions', `sessions/${info.id}`, 'backups']) {
      expect([folder, modeOf(join(home, folder))]).toEqual([folder, 0o700])
    }
    await store.letGoAll()
    store.close()
  })

  it('lives in the platform’s user-data folder unless PHONOSCOPE_HOME says otherwise', () => {
    const env = { HOME: '/h', APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }
    expect(defaultHome({ ...env, PHONOSCOPE_HOME: '/p' }, 'linux')).toBe('/p')
    expect(defaultHome(env, 'linux')).toMatch(/\.local\/share\/phonoscope$/)
    expect(defaultHome({ ...env, XDG_DATA_HOME: '/x' }, 'linux')).toBe('/x/phonoscope')
    expect(defaultHome(env, 'darwin')).toMatch(/Library\/Application Support\/Phonoscope$/)
    expect(defaultHome(env, 'win32')).toMatch(/Roaming[/\\]Phonoscope$/)
  })
})
