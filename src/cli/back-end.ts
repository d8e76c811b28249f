import { startBackEnd, type BackEnd } from '../core/backend/back-end'
import { InputError } from '../core/errors'
import { defaultSessionsDir, SessionStore } from '../core/sessions/store'
import { loadOptions, logModel, type InferenceCliOptions } from './inference'

export interface SessionCliOptions extends InferenceCliOptions {
  sessions?: string
  hop?: string
}

/** The back end of `serve` and `record`, from their options: the same one the app runs. */
export async function startCliBackEnd(options: SessionCliOptions, fileRoots?: string[]): Promise<BackEnd> {
  const hopS = options.hop === undefined ? undefined : Number(options.hop)
  if (hopS !== undefined && !(hopS > 0))
    throw new InputError('--hop', `must be a positive number of seconds, not "${options.hop}"`)
  const backEnd = await startBackEnd({
    inference: loadOptions(options),
    repository: new SessionStore(options.sessions ?? defaultSessionsDir()),
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
