import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { REPO_ROOT } from './paths'

export interface Running {
  child: ChildProcess
  /** stderr so far */
  stderr: () => string
  exited: Promise<{ status: number | null; stderr: string }>
}

/** A `phonoscope` process left running, with PHONOSCOPE_HOME set to `home`. */
export function start(home: string, ...args: string[]): Running {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'phonoscope.mjs'), ...args], {
    env: { ...process.env, PHONOSCOPE_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ status: number | null; stderr: string }>((resolve) =>
    child.once('close', (status) => resolve({ status, stderr })),
  )
  return { child, stderr: () => stderr, exited }
}

/** The id of the session a `record` process reports it is recording. */
export async function sessionOf(recorder: Running): Promise<string> {
  let ended = false
  void recorder.exited.then(() => (ended = true))
  for (;;) {
    const id = /session (\d{8}-\d{6}-[a-z0-9]{4}), site/.exec(recorder.stderr())?.[1]
    if (id) return id
    if (ended) throw new Error(`the recorder ended without a session: ${recorder.stderr()}`)
    await sleep(20)
  }
}
