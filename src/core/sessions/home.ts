import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * The folder Phonoscope keeps its examinations in (the database, the audio, backups): PHONOSCOPE_HOME, else the
 * platform's place for a user's application data.
 */
export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.PHONOSCOPE_HOME) return env.PHONOSCOPE_HOME
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Phonoscope')
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Phonoscope')
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'phonoscope')
}

/** Where sessions were kept before the database (JSON folders), when no home was chosen: migrated on first start. */
export const legacySessionsDir = (): string => join(homedir(), '.phonoscope', 'sessions')
