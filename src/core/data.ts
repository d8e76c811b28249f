import { join, resolve } from 'node:path'

/**
 * Where the heart-sound corpora live: one setting, PHONOSCOPE_DATA, defaulting to ../shared/data beside the
 * repository (the Python side, training/phonoscope_training/data.py, reads the same variable and default).
 */
export function dataRoot(repoRoot = resolve(import.meta.dirname, '../..')): string {
  return process.env.PHONOSCOPE_DATA ?? join(repoRoot, '..', 'shared', 'data')
}

export const circorDir = (): string => join(dataRoot(), 'circor')
