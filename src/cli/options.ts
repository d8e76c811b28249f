import { InputError } from '../core/errors'

/** A command-line option that must be a positive integer; undefined when not given. */
export function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new InputError(option, `must be a positive integer, not "${value}"`)
  return n
}
