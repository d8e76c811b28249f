import { startBackEnd, type BackEnd } from '../core/backend/back-end'
import { writeFile } from 'node:fs/promises'
import { InputError } from '../core/errors'
import { defaultHome } from '../core/sessions/home'
import type { SessionRepository } from '../core/sessions/repository'
import { openRepository } from '../core/sessions/open'
import { loadOptions, logModel, type InferenceCliOptions } from './inference'

export interface SessionCliOptions extends InferenceCliOptions {
  sessions?: string
  hop?: string
}

/** The option of every command that opens the store: its home folder, defaulting as openRepository does. */
export const STORE_OPTION = [
  '--sessions <dir>',
  `the store's home folder, its database and audio (default: $PHONOSCOPE_HOME, else ${defaultHome({ ...process.env, PHONOSCOPE_HOME: '' })})`,
] as const

/** A file the CLI writes for the user (a report, a bundle): readable by them only; a path it cannot write is their error. */
export async function writeUserFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(path, bytes, { mode: 0o600 }).catch((error: unknown) => {
    throw new InputError(path, `cannot write: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  })
}

/** The store the CLI's commands open: --sessions (a home folder: its database and audio), else the user's. */
export const cliRepository = (home?: string): SessionRepository => openRepository(home)

/** The back end of `serve` and `record`, from their options: the same one the app runs. */
export async function startCliBackEnd(options: SessionCliOptions, fileRoots?: string[]): Promise<BackEnd> {
  const hopS = options.hop === undefined ? undefined : Number(options.hop)
  if (hopS !== undefined && !(hopS > 0))
    throw new InputError('--hop', `must be a positive number of seconds, not "${options.hop}"`)
  const backEnd = await startBackEnd({
    inference: loadOptions(options),
    repository: cliRepository(options.sessions),
    hopS,
    fileRoots,
    onRecovered: (id) =>
      process.stderr.write(
        `phonoscope: session ${id}: a recording whose process is gone is marked interrupted; its audio is kept\n`,
      ),
  })
  logModel(backEnd.model)
  return backEnd
}
