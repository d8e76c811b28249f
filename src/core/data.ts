import { join } from 'node:path'
import { appRoot } from './paths'

/**
 * Where the heart-sound corpora live: one setting, PHONOSCOPE_DATA, defaulting to ../shared/data beside the
 * repository (the Python side, training/phonoscope_training/data.py, reads the same variable and default).
 */
export function dataRoot(): string {
  return process.env.PHONOSCOPE_DATA ?? join(appRoot(), '..', 'shared', 'data')
}

export const circorDir = (): string => join(dataRoot(), 'circor')
