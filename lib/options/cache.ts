// The `cache` option: the decision cache's limits and where it listens for
// changes. Off when absent.
import type { CacheSettings } from '../cache/index.js'
import { invalid, positiveInteger, postgresUrl, subOptions } from './values.js'

// Probes go out four times a heartbeat: below 100 ms that is a statement every few milliseconds.
function atLeast (opts: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const value = positiveInteger(opts, name, fallback, max)
  if (value < min) invalid(name, `must be an integer from ${min} to ${max}`)
  return value
}

export const DEFAULT_CACHE_MAX_ENTRIES = 10_000
export const DEFAULT_CACHE_MAX_BYTES = 16 * 1024 * 1024
export const DEFAULT_CACHE_MAX_AGE = 60_000
// A revoked grant may be served this long after the feed stalls: a couple of
// seconds is the most a security product can defend as a default.
export const DEFAULT_CACHE_HEARTBEAT = 2_000
const KEYS = new Set(['maxEntries', 'maxBytes', 'maxAge', 'listenConnectionString', 'heartbeat'])

export function cacheOption (opts: Record<string, unknown>): CacheSettings | null {
  const raw = opts.cache
  if (raw === undefined || raw === false) return null
  if (raw !== true && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) invalid('cache', 'must be true, false or an object')
  const fields = raw === true ? {} : raw as Record<string, unknown>
  const prefixed = subOptions('cache', fields, KEYS)
  const listen = fields.listenConnectionString
  if (listen !== undefined) postgresUrl('cache.listenConnectionString', listen)
  return Object.freeze({
    maxEntries: positiveInteger(prefixed, 'cache.maxEntries', DEFAULT_CACHE_MAX_ENTRIES, 10_000_000),
    maxBytes: positiveInteger(prefixed, 'cache.maxBytes', DEFAULT_CACHE_MAX_BYTES, 2 ** 40),
    maxAge: positiveInteger(prefixed, 'cache.maxAge', DEFAULT_CACHE_MAX_AGE, 86_400_000),
    listenConnectionString: (listen as string | undefined) ?? null,
    heartbeat: atLeast(prefixed, 'cache.heartbeat', DEFAULT_CACHE_HEARTBEAT, 100, 600_000)
  })
}
