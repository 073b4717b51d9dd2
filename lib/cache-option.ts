// The `cache` option: the decision cache's limits and where it listens for
// changes. Off when absent.
import { invalid, positiveInteger, subOptions } from './option-values.js'

export interface CacheSettings {
  maxEntries: number
  maxBytes: number
  maxAge: number
  /** A direct connection for LISTEN; `null`: the plugin's `connectionString`, or the embedded database's own feed. */
  listenConnectionString: string | null
  /** How often the LISTEN connection is proven alive, in milliseconds. */
  heartbeat: number
}

export const DEFAULT_CACHE_MAX_ENTRIES = 10_000
export const DEFAULT_CACHE_MAX_BYTES = 16 * 1024 * 1024
export const DEFAULT_CACHE_MAX_AGE = 60_000
export const DEFAULT_CACHE_HEARTBEAT = 5_000
const KEYS = new Set(['maxEntries', 'maxBytes', 'maxAge', 'listenConnectionString', 'heartbeat'])

export function cacheOption (opts: Record<string, unknown>): CacheSettings | null {
  const raw = opts.cache
  if (raw === undefined || raw === false) return null
  if (raw !== true && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) invalid('cache', 'must be true, false or an object')
  const fields = raw === true ? {} : raw as Record<string, unknown>
  const prefixed = subOptions('cache', fields, KEYS)
  const listen = fields.listenConnectionString
  if (listen !== undefined && (typeof listen !== 'string' || !/^postgres(ql)?:\/\//.test(listen))) {
    invalid('cache.listenConnectionString', 'must be a postgres:// or postgresql:// URL')
  }
  return Object.freeze({
    maxEntries: positiveInteger(prefixed, 'cache.maxEntries', DEFAULT_CACHE_MAX_ENTRIES, 10_000_000),
    maxBytes: positiveInteger(prefixed, 'cache.maxBytes', DEFAULT_CACHE_MAX_BYTES, 2 ** 40),
    maxAge: positiveInteger(prefixed, 'cache.maxAge', DEFAULT_CACHE_MAX_AGE, 86_400_000),
    listenConnectionString: (listen as string | undefined) ?? null,
    heartbeat: positiveInteger(prefixed, 'cache.heartbeat', DEFAULT_CACHE_HEARTBEAT, 600_000)
  })
}
