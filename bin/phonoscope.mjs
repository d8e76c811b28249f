#!/usr/bin/env node
// The `phonoscope` command. It runs the bundle of src/cli in out/cli, rebuilding it first (a fraction of a second)
// when any file under src/ is newer, so the CLI, the app and the tests always run the same, current sources.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildCli, OUT_DIR, ROOT } from '../scripts/build-cli.mjs'

function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

const bundle = join(OUT_DIR, 'main.mjs')
let built = 0
try {
  built = statSync(bundle).mtimeMs
} catch {
  // not built yet
}
if (built < Math.max(newestSource(join(ROOT, 'src')), statSync(join(ROOT, 'package.json')).mtimeMs)) await buildCli()
await import(pathToFileURL(bundle).href)
