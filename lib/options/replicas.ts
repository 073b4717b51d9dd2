// The `replicas` option: hot standbys the plugin may read checks from, and
// how stale a standby may be before reads go back to the primary. Off when
// absent.
import type { ReplicaSettings } from '../store/replicas.js'
import { invalid, isPostgresUrl, positiveInteger, subOptions } from './values.js'

export const DEFAULT_REPLICA_MAX_LAG = 1_000
export const DEFAULT_REPLICA_WAIT = 50
export const DEFAULT_REPLICA_POLL = 100
const KEYS = new Set(['connectionStrings', 'maxLag', 'wait', 'pollInterval'])

export function replicaOption (opts: Record<string, unknown>): ReplicaSettings | null {
  const raw = opts.replicas
  if (raw === undefined || raw === false) return null
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('replicas', 'must be false or { connectionStrings, maxLag, wait, pollInterval }')
  const fields = raw as Record<string, unknown>
  const prefixed = subOptions('replicas', fields, KEYS)
  const urls = fields.connectionStrings
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > 16 || !urls.every(isPostgresUrl)) {
    invalid('replicas.connectionStrings', 'must be a list of 1 to 16 postgres:// or postgresql:// URLs')
  }
  const maxLag = positiveInteger(prefixed, 'replicas.maxLag', DEFAULT_REPLICA_MAX_LAG, 3_600_000)
  const pollInterval = positiveInteger(prefixed, 'replicas.pollInterval', DEFAULT_REPLICA_POLL, 60_000)
  // A standby is known fresh only as of its last poll: a bound tighter than the poll could never be met.
  if (pollInterval >= maxLag) invalid('replicas.pollInterval', 'must be less than replicas.maxLag')
  return Object.freeze({
    connectionStrings: Object.freeze([...urls as string[]]),
    maxLag,
    wait: fields.wait === 0 ? 0 : positiveInteger(prefixed, 'replicas.wait', DEFAULT_REPLICA_WAIT, 60_000),
    pollInterval
  })
}
