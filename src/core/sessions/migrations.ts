import type { Database } from 'better-sqlite3'
import { InputError } from '../errors'

/**
 * The database's schema, as the steps that built it: step n takes a database at version n to n + 1 (PRAGMA
 * user_version). A new schema is a new step at the end; a step once released is never edited.
 */
export const MIGRATIONS: readonly ((db: Database) => void)[] = [
  // 1: examinations, their sites (windows as JSON), patients, the clinician's findings
  (db) =>
    db.exec(`
      CREATE TABLE patients (
        id TEXT PRIMARY KEY,
        name TEXT,
        birth_year INTEGER,
        age_group TEXT,
        sex TEXT
      ) WITHOUT ROWID;
      CREATE TABLE examinations (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        patient TEXT NOT NULL,
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        probabilities TEXT,
        verdict TEXT,
        model TEXT NOT NULL,
        notes TEXT NOT NULL,
        device TEXT,
        dropped_windows INTEGER NOT NULL,
        hop_s REAL,
        revision INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX examinations_patient ON examinations (patient);
      CREATE TABLE sites (
        exam TEXT NOT NULL REFERENCES examinations (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        site TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_s REAL NOT NULL,
        sample_rate INTEGER NOT NULL,
        windows TEXT NOT NULL,
        probabilities TEXT,
        verdict TEXT,
        verdict_windows TEXT,
        quality TEXT,
        heart_rate_bpm TEXT,
        heart_sounds TEXT,
        murmur_timing TEXT,
        imported_from TEXT,
        PRIMARY KEY (exam, site)
      );
      CREATE TABLE findings (
        exam TEXT NOT NULL REFERENCES examinations (id) ON DELETE CASCADE,
        site TEXT NOT NULL, -- '' for the examination's own
        murmur TEXT NOT NULL,
        grade INTEGER,
        note TEXT,
        PRIMARY KEY (exam, site)
      ) WITHOUT ROWID;
    `),
  // 2: each site's recording by its sha256 (import never stores one twice); folders already imported, once each
  (db) =>
    db.exec(`
      ALTER TABLE sites ADD COLUMN sha256 TEXT;
      CREATE INDEX sites_sha256 ON sites (sha256);
      CREATE TABLE imported (source TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID;
    `),
  // 3: the windows (kilobytes of attention a site) in a table of their own, so that listing the sites reads none of
  // them (a column before the others in a row makes SQLite read through it to reach them)
  (db) =>
    db.exec(`
      CREATE TABLE site_windows (
        exam TEXT NOT NULL REFERENCES examinations (id) ON DELETE CASCADE,
        site TEXT NOT NULL,
        windows TEXT NOT NULL,
        PRIMARY KEY (exam, site)
      );
      INSERT INTO site_windows (exam, site, windows) SELECT exam, site, windows FROM sites;
      ALTER TABLE sites DROP COLUMN windows;
    `),
  // 4: each examination as a listing gives it (its sites' summaries, findings and all), one JSON text a row, so that
  // listing thousands reads one column of one table; rows saved before it are listed from their sites instead
  (db) => db.exec('ALTER TABLE examinations ADD COLUMN listed TEXT'),
  // 5: the ids and revisions a listing starts from, in an index of their own (not read through the wide rows), and
  // the status (the live view asks for the exam being recorded); the store fills in the listing of rows saved
  // before 4 (LISTINGS_FILLED)
  (db) =>
    db.exec(`
      CREATE INDEX examinations_revision ON examinations (id, revision);
      CREATE INDEX examinations_status ON examinations (status);
    `),
  // 6: each site's murmur descriptors (issue 17), as JSON
  (db) => db.exec('ALTER TABLE sites ADD COLUMN descriptors TEXT'),
]

/** The version whose opening writer gives every row saved before schema 4 its listing. */
export const LISTINGS_FILLED = 5

export const SCHEMA_VERSION = MIGRATIONS.length

/** The schema version of the database file. */
export const versionOf = (db: Database): number => db.pragma('user_version', { simple: true }) as number

/**
 * Brings the database to SCHEMA_VERSION, one step per transaction with the version it reaches (a crash leaves a whole
 * version; another process migrating at once finds the step done). `before` runs first when there is anything to
 * migrate (a backup). Returns the version it found; refuses a database newer than this program.
 */
export function migrate(db: Database, before: (from: number) => void = () => undefined): number {
  const from = versionOf(db)
  if (from > SCHEMA_VERSION) {
    const problem = `its schema version ${from} is newer than this Phonoscope's (${SCHEMA_VERSION}): update Phonoscope`
    throw new InputError(db.name, problem, 'storage')
  }
  if (from < SCHEMA_VERSION) before(from)
  const step = db.transaction(() => {
    const version = versionOf(db)
    if (version >= SCHEMA_VERSION) return false
    MIGRATIONS[version]!(db)
    db.pragma(`user_version = ${version + 1}`)
    return true
  })
  while (step.immediate());
  return from
}
