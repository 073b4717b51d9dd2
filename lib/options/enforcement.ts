// How a check is enforced on requests: its time limits, what a refusal says,
// the rules' lockout answer, and how long an id may be.
import { booleanOption, invalid, positiveInteger } from './values.js'

export const DEFAULT_CHECK_TIMEOUT = 2000
/** A bulk of 1000 changes (the most one request may carry) takes about 2.5 s on PGlite. */
export const DEFAULT_WRITE_TIMEOUT = 10_000
export const DEFAULT_MAX_ID_LENGTH = 256
export const DEFAULT_LOCKOUT_RETRY_AFTER = 300

export interface EnforcementOptions {
  readonly hideForbidden: boolean
  readonly checkTimeout: number
  readonly writeTimeout: number
  readonly maxIdLength: number
  readonly lockoutStatus: 403 | 503
  readonly lockoutRetryAfter: number
}

export function enforcementOptions (opts: Record<string, unknown>): EnforcementOptions {
  const lockoutStatus = opts.lockoutStatus === undefined ? 503 : opts.lockoutStatus
  if (lockoutStatus !== 503 && lockoutStatus !== 403) invalid('lockoutStatus', 'must be 503 or 403')
  return Object.freeze({
    lockoutStatus,
    lockoutRetryAfter: positiveInteger(opts, 'lockoutRetryAfter', DEFAULT_LOCKOUT_RETRY_AFTER, 86_400),
    hideForbidden: booleanOption(opts, 'hideForbidden', false),
    checkTimeout: positiveInteger(opts, 'checkTimeout', DEFAULT_CHECK_TIMEOUT, 60_000),
    writeTimeout: positiveInteger(opts, 'writeTimeout', DEFAULT_WRITE_TIMEOUT, 600_000),
    maxIdLength: positiveInteger(opts, 'maxIdLength', DEFAULT_MAX_ID_LENGTH, 4096)
  })
}
