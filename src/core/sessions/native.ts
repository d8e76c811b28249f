import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { appRoot } from '../paths'

/**
 * better-sqlite3's compiled binding for this process, when it is not the package's own: inside Electron during
 * development, the build for Electron's ABI that scripts/electron-native.mjs keeps beside the Node one (the CLI, the
 * server and the tests load the package's own, built for Node). Undefined: the package's own (Node, or a packaged
 * app, whose copy electron-builder rebuilt for Electron).
 */
export function sqliteBinding(): string | undefined {
  if (!process.versions.electron) return undefined
  const built = join(appRoot(), 'node_modules', '.electron-native', 'better_sqlite3.node')
  return existsSync(built) ? built : undefined
}
