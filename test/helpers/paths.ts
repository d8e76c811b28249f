import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { circorDir } from '../../src/core/data'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures')

/**
 * The CirCor folder for tests that need the corpus. Missing data fails the test under CI=true (a silently skipped
 * test would hide a broken set-up); elsewhere such tests are skipped with the reason shown.
 */
export function corpus(): { available: boolean; dir: string } {
  const dir = circorDir()
  const available = existsSync(join(dir, 'manifest.csv'))
  if (!available && process.env.CI === 'true') {
    throw new Error(`CirCor corpus not found at ${dir}: set PHONOSCOPE_DATA (see README.md)`)
  }
  return { available, dir }
}

/** A fresh temporary folder and a writer of named files in it, for tests that need files on disk. */
export function scratch(prefix: string): { dir: string; put: (name: string, content: Buffer | string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    dir,
    put: (name, content) => {
      const path = join(dir, name)
      writeFileSync(path, content)
      return path
    },
  }
}
