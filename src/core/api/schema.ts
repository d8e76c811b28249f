/**
 * Runtime schemas for the contract's JSON values, small enough to read in one go. A schema checks an unknown value
 * and throws an InputError naming the first parameter that is wrong ("source.path: must be a string, not a number").
 * Its type parameter is the TypeScript type it checks; Exact makes the compiler hold a schema to exactly that type.
 */
import { InputError } from '../errors'

export interface Schema<T> {
  /** throws InputError(at, problem) unless `value` is a T; `at` names the parameter, e.g. "source.path" */
  check(value: unknown, at: string): void
  /** type only (never set): the T that TypeOf reads */
  readonly value?: T
  /** type only (never set): identical only for identical T, optional keys included (see Exact) */
  readonly exact?: <X>() => X extends T ? 1 : 2
}

/**
 * A schema of exactly T. TypeScript accepts a Schema<A> as a Schema<B> whenever A and B are assignable both ways
 * (it compares instances of one interface by their type argument), so a schema lacking an optional key would pass;
 * this intersection is compared member by member, and `exact` only matches the same T.
 */
export type Exact<T> = Schema<T> & { readonly exact?: <X>() => X extends T ? 1 : 2 }

/** Marks an object key that may be absent (or undefined, as in-process callers may pass). */
type Optional<T> = Schema<T> & { readonly optional: true }
/** Any schema, whatever its T */
type AnySchema = { check(value: unknown, at: string): void; readonly exact?: () => unknown }
type Shape = Record<string, AnySchema>
type TypeOf<S> = S extends Schema<infer T> ? T : never
type Flatten<T> = { [K in keyof T]: T[K] }
type ObjectOf<S extends Shape> = Flatten<
  { [K in keyof S as S[K] extends { optional: true } ? never : K]: TypeOf<S[K]> } & {
    [K in keyof S as S[K] extends { optional: true } ? K : never]?: TypeOf<S[K]>
  }
>

const kindOf = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : `a ${typeof value}`

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f]/

/** A string of at most `max` characters without control characters; `pattern` (explained by `meaning`) if given. */
export function text(max: number, pattern?: { test: RegExp; meaning: string }): Schema<string> {
  return {
    check(value, at) {
      if (typeof value !== 'string') throw new InputError(at, `must be a string, not ${kindOf(value)}`)
      if (pattern && !pattern.test.test(value)) throw new InputError(at, pattern.meaning)
      if (value.length > max) throw new InputError(at, `longer than ${max} characters`)
      if (CONTROL.test(value)) throw new InputError(at, 'contains control characters')
    },
  }
}

/** A finite number in [min, max]. */
export function number(min: number, max: number): Schema<number> {
  return {
    check(value, at) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new InputError(at, `must be a number, not ${kindOf(value)}`)
      }
      if (value < min || value > max) throw new InputError(at, `must be between ${min} and ${max}, not ${value}`)
    },
  }
}

export function boolean(): Schema<boolean> {
  return {
    check(value, at) {
      if (typeof value !== 'boolean') throw new InputError(at, `must be true or false, not ${kindOf(value)}`)
    },
  }
}

/** One of a fixed list of strings (compared as own values, so no prototype name slips through). */
export function oneOf<const V extends readonly string[]>(values: V): Schema<V[number]> {
  return {
    check(value, at) {
      if (typeof value !== 'string' || !values.includes(value)) {
        throw new InputError(at, `not one of ${values.join(', ')}`)
      }
    },
  }
}

export const optional = <T>(schema: Schema<T>): Optional<T> => ({ ...schema, optional: true })

/** A whole number in [min, max]. */
export function integer(min: number, max: number): Schema<number> {
  const range = number(min, max)
  return {
    check(value, at) {
      range.check(value, at)
      if (!Number.isInteger(value)) throw new InputError(at, `must be a whole number, not ${String(value)}`)
    },
  }
}

/** The value, or null (which a caller gives to remove something). */
export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return {
    check(value, at) {
      if (value !== null) schema.check(value, at)
    },
  }
}

/** An array of at most `max` items, each checked by `item` ("site_findings[2].site"). */
export function list<T>(item: Schema<T>, max: number): Schema<T[]> {
  return {
    check(value, at) {
      if (!Array.isArray(value)) throw new InputError(at, `must be an array, not ${kindOf(value)}`)
      if (value.length > max) throw new InputError(at, `more than ${max} items`)
      value.forEach((element, i) => item.check(element, `${at}[${i}]`))
    },
  }
}

/** A plain object with exactly these keys: none missing (unless optional), none unknown. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return {
    check(value, at) {
      if (!isRecord(value)) throw new InputError(at || 'params', `must be an object, not ${kindOf(value)}`)
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) throw new InputError(join(at, key), 'unknown parameter')
      }
      for (const [key, schema] of Object.entries(shape)) {
        const given = Object.hasOwn(value, key) ? value[key] : undefined
        if (given === undefined && 'optional' in schema) continue
        if (given === undefined) throw new InputError(join(at, key), 'missing')
        schema.check(given, join(at, key))
      }
    },
  }
}

/** One of several object shapes, told apart by the string at `tag` (the variants' keys). */
export function tagged<K extends string, V extends Record<string, Shape>>(
  tag: K,
  variants: V,
): Schema<{ [T in keyof V]: Flatten<{ [_ in K]: T } & ObjectOf<V[T]>> }[keyof V]> {
  const kinds = Object.keys(variants)
  const schemas = new Map(kinds.map((kind) => [kind, object({ ...variants[kind], [tag]: oneOf([kind]) })]))
  return {
    check(value, at) {
      if (!isRecord(value)) throw new InputError(at, `must be an object, not ${kindOf(value)}`)
      const kind = Object.hasOwn(value, tag) ? value[tag] : undefined
      const schema = typeof kind === 'string' ? schemas.get(kind) : undefined
      if (!schema) throw new InputError(join(at, tag), `not one of ${kinds.join(', ')}`)
      schema.check(value, at)
    },
  }
}

const join = (at: string, key: string): string => (at === '' ? key : `${at}.${key}`)
