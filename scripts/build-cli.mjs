// Bundles the CLI (and the processes it starts) from src/ into out/cli with esbuild. bin/phonoscope.mjs calls this
// whenever a source is newer than the bundle, so `npx phonoscope` never runs stale code. Bundling rather than running
// through tsx matters: tsx's loader hooks make the CPU-bound front end about 1.7x slower.
import { build } from 'esbuild'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const OUT_DIR = join(ROOT, 'out', 'cli')
/** Entry points: the command, and every script it runs in another thread or process. */
export const ENTRIES = { main: 'src/cli/main.ts', 'recording-worker': 'src/core/analysis/recording-worker.ts' }

export async function buildCli() {
  await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(ROOT, path)])),
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'error',
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli()
