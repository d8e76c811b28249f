import { join } from 'node:path'
import { defaultHome, legacySessionsDir } from './home'
import { SqliteStore } from './sqlite-store'

/**
 * The repository the app, the server and the CLI open: the database in `home` (default: defaultHome()). JSON
 * session folders of earlier versions are imported on its first open, nothing lost: <home>/sessions in place,
 * <home> itself (a folder once given as --sessions), and ~/.phonoscope/sessions when no home was chosen.
 */
export function openRepository(home?: string): SqliteStore {
  const chosen = home !== undefined || Boolean(process.env.PHONOSCOPE_HOME)
  const root = home ?? defaultHome()
  return new SqliteStore(root, [join(root, 'sessions'), root, ...(chosen ? [] : [legacySessionsDir()])])
}
