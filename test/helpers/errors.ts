import { expect } from 'vitest'
import { InputError } from '../../src/core/errors'

/** The message of the InputError `fn` throws; fails the test when it throws something else or nothing. */
export const problem = (fn: () => unknown): string => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return (error as Error).message
  }
  throw new Error('no error')
}
