import { isInputError } from '../core/errors'

/** Exit codes, documented in README.md and `phonoscope --help`. */
export const EXIT = { ok: 0, internal: 1, badInput: 2 } as const

/**
 * Runs a command and turns failures into one line on stderr and an exit code: 2 for input a user can fix, 1 for
 * internal errors. A stack trace is printed only with PHONOSCOPE_DEBUG=1.
 */
export async function runCommand(action: () => Promise<void>): Promise<void> {
  try {
    await action()
  } catch (error) {
    process.exitCode = isInputError(error) ? EXIT.badInput : EXIT.internal
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`phonoscope: ${isInputError(error) ? '' : 'internal error: '}${firstLine(message)}\n`)
    if (process.env.PHONOSCOPE_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`)
  }
}

const firstLine = (text: string): string => text.split('\n', 1)[0]!.trim()
