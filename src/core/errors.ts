/**
 * Errors a user can act on. They carry a one-line message and map to exit code 2 in the CLI and to an error event in
 * the API; anything else is an internal error (exit code 1).
 */
export class InputError extends Error {
  override readonly name = 'InputError'

  /** @param subject what was wrong (a file path, an option), prefixed to the message */
  constructor(
    readonly subject: string,
    readonly problem: string,
  ) {
    super(`${subject}: ${problem}`)
  }
}

export const isInputError = (error: unknown): error is InputError => error instanceof InputError
