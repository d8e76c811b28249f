/**
 * Errors a user can act on, and how every error crosses a transport. A user's error carries a one-line message and
 * its kind; it maps to exit code 2 in the CLI and keeps its kind across IPC and the WebSocket (toWire / fromWire),
 * so the UI tells "fix this" from "something broke". Anything else is an internal error (exit code 1).
 */

/** What a user's error is about; 'internal' is everything else (a bug, a crash of a part). */
export const ERROR_KINDS = ['input', 'not_found', 'conflict', 'storage', 'internal'] as const
export type ErrorKind = (typeof ERROR_KINDS)[number]
export type UserErrorKind = Exclude<ErrorKind, 'internal'>

export class InputError extends Error {
  override readonly name = 'InputError'

  /**
   * @param subject what was wrong (a file path, an option), prefixed to the message
   * @param kind input: a bad value; not_found: no such thing; conflict: in use or in progress; storage: the disk
   */
  constructor(
    readonly subject: string,
    readonly problem: string,
    readonly kind: UserErrorKind = 'input',
  ) {
    super(`${subject}: ${problem}`)
  }
}

export const isInputError = (error: unknown): error is InputError => error instanceof InputError

/** An error from inside Phonoscope, rebuilt on the far side of a transport. */
export class InternalError extends Error {
  override readonly name = 'InternalError'
  readonly kind = 'internal'
}

/** How an error travels (IPC reply, WebSocket message, error event): plain JSON. */
export interface WireError {
  kind: ErrorKind
  message: string
  /** a user's error: what was wrong and why, as InputError has them */
  subject?: string
  problem?: string
}

/** The first line of an error's message: a stack or a native library's detail never reaches a user. */
export const errorText = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!

export function toWire(error: unknown): WireError {
  if (isInputError(error)) {
    return { kind: error.kind, message: errorText(error), subject: error.subject, problem: errorText(error.problem) }
  }
  return { kind: 'internal', message: errorText(error) }
}

/** The error as it was thrown on the other side: an InputError of its kind, or an InternalError. */
export function fromWire(wire: WireError): InputError | InternalError {
  const kind = (ERROR_KINDS as readonly string[]).includes(wire.kind) ? wire.kind : 'internal'
  if (kind !== 'internal' && wire.subject !== undefined && wire.problem !== undefined) {
    return new InputError(wire.subject, wire.problem, kind)
  }
  return new InternalError(String(wire.message))
}

/** The kind of any error (an InputError's, else internal). */
export const kindOf = (error: unknown): ErrorKind => (isInputError(error) ? error.kind : 'internal')

/**
 * How a person reads an error (thrown, or as it travelled): their own mistake as it is, anything else marked as
 * Phonoscope's, so nobody hunts for a mistake they did not make.
 */
export function explain(error: unknown): string {
  const wire = typeof error === 'object' && error !== null && !(error instanceof Error) && 'kind' in error
  const kind = wire ? (error as WireError).kind : kindOf(error)
  const text = wire ? errorText((error as WireError).message) : errorText(error)
  return kind === 'internal'
    ? `Phonoscope failed: ${text} (not something you did; if it happens again, please report it)`
    : text
}
