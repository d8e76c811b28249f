import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The installation's root (the folder with package.json, models/, resources/), found by walking up from this module,
 * so it is right both from the sources (src/core) and from a bundle (out/cli, out/main).
 */
export function appRoot(from = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}
