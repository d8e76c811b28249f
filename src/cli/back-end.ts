import { startBackEnd, type BackEnd } from '../core/backend/back-end'
import { InputError } from '../core/errors'
import type { SessionRepository } from '../core/sessions/repository'
import { openRepository } from '../core/sessions/open'
import { loadOptions, logModel, type InferenceCliOptions } from './inference'

export interface SessionCliOptions extends InferenceCliOptions {
  sessions?: string
  hop?: string
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
