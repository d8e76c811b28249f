#!/usr/bin/env node
// better-sqlite3 for Electron's ABI, beside the Node build (which the CLI, the server and the tests load), for
// `npm run dev` on a desktop: node-gyp (npm's own) compiles a copy of the package against the headers of the
// installed Electron (downloaded from electronjs.org once) into node_modules/.electron-native/, which the store loads
// when it runs inside Electron (src/core/sessions/native.ts). Packaging needs none of this: electron-builder rebuilds
// the packaged copy itself (electron-builder.yml). Where Electron's binary is not installed (a server, CI) it does
// nothing.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const root = join(import.meta.dirname, '..')
const electron = join(root, 'node_modules', 'electron')
const out = join(root, 'node_modules', '.electron-native', 'better_sqlite3.node')
const source = join(root, 'node_modules', 'better-sqlite3')

if (!existsSync(join(electron, 'path.txt'))) {
  console.log('electron-native: the Electron binary is not installed here; nothing to build')
  process.exit(0)
}
const { version } = JSON.parse(readFileSync(join(electron, 'package.json'), 'utf8'))
const stamp = `${out}.${version}`
if (existsSync(out) && existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(join(source, 'package.json')).mtimeMs) {
  process.exit(0) // built for this Electron and this better-sqlite3 already
}
// npm's own node-gyp: npm names it to the scripts it runs (npm_config_node_gyp), or sits beside npm-cli.js
const nodeGyp =
  process.env.npm_config_node_gyp ??
  join(dirname(process.env.npm_execpath ?? ''), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
if (!existsSync(nodeGyp)) {
  console.error('electron-native: run it through npm (npm run dev), which provides node-gyp')
  process.exit(1)
}
const work = mkdtempSync(join(tmpdir(), 'phonoscope-electron-native-'))
try {
  cpSync(source, work, { recursive: true, filter: (path) => !path.includes(`${join(source, 'build')}`) })
  console.log(`electron-native: compiling better-sqlite3 for Electron ${version}...`)
  execFileSync(
    process.execPath,
    [
      nodeGyp,
      'rebuild',
      '--release',
      `--target=${version}`,
      '--runtime=electron',
      '--dist-url=https://electronjs.org/headers',
    ],
    { cwd: work, stdio: 'inherit' },
  )
  mkdirSync(dirname(out), { recursive: true })
  cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), out)
  cpSync(join(work, 'package.json'), stamp)
  console.log(`electron-native: ${out}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
