// The primitives every option is checked with: each names the option it
// refuses in FST_DEFAULT_DENY_INVALID_OPTION. Shared by the option modules.
import { codes } from '../errors.js'

// Lower-case identifiers only: privilege names end up in logs, URLs and the database.
export const NAME = /^[a-z][a-z0-9_-]{0,62}$/

export function invalid (name: string, message: string): never {
  throw new codes.FST_DEFAULT_DENY_INVALID_OPTION(name, message)
}

const POSTGRES_URL = /^postgres(ql)?:\/\//

/** Whether `value` is a URL the plugin accepts as a PostgreSQL connection string. */
export const isPostgresUrl = (value: unknown): value is string => typeof value === 'string' && POSTGRES_URL.test(value)

/** `value` as a PostgreSQL connection string, or the option error naming `name` (never echoing the value: it may hold a password). */
export function postgresUrl (name: string, value: unknown): string {
  if (!isPostgresUrl(value)) invalid(name, 'must be a postgres:// or postgresql:// URL')
  return value
}

export function nameList (name: string, value: unknown, mayBeEmpty = false): string[] {
  if (mayBeEmpty && Array.isArray(value) && value.length === 0) return []
  if (!Array.isArray(value) || value.length === 0) invalid(name, 'must be a non-empty array of names')
  for (const item of value) {
    if (typeof item !== 'string' || !NAME.test(item)) invalid(name, `must contain only names matching ${NAME}`)
  }
  if (new Set(value).size !== value.length) invalid(name, 'must not repeat a name')
  return value as string[]
}

export function booleanOption (opts: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = opts[name]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') invalid(name, 'must be a boolean')
  return value
}

export function claimOption (opts: Record<string, unknown>, name: string, fallback: string): string {
  const value = opts[name]
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) invalid(name, 'must be a non-empty string')
  return value
}

export function positiveInteger (opts: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const value = opts[name]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    invalid(name, `must be an integer from 1 to ${max}`)
  }
  return value
}

export function optionalString (opts: Record<string, unknown>, name: string): string | null {
  const value = opts[name]
  if (value === undefined) return null
  if (typeof value !== 'string' || value.length === 0) invalid(name, 'must be a non-empty string')
  return value
}

/**
 * The fields of an object option (`name`), refusing any key not in `keys`,
 * each under its full name (`name.key`) so that the primitives above name
 * what they refuse as the user wrote it.
 */
export function subOptions (name: string, fields: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> {
  const prefixed: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (!keys.has(key)) invalid(name, `has unknown key '${key}'`)
    prefixed[`${name}.${key}`] = value
  }
  return prefixed
}
