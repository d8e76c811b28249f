import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from './paths'

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the real `phonoscope` command (bin/phonoscope.mjs) as a user would, and captures its output. */
export function phonoscope(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'phonoscope.mjs'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** A stack-trace line ("    at fn (file:1:2)") anywhere in the output. */
export const hasStackTrace = (text: string): boolean => /^\s+at .+:\d+:\d+\)?$/m.test(text)
