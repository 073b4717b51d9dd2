// Ids are compared byte-exactly in SQL; these checks only keep out what
// PostgreSQL text cannot store (NUL, lone surrogates) and unbounded input.
export function isValidId (value: unknown, maxLength: number): value is string {
  return isValidText(value, maxLength) && value.length > 0
}

/** Longest `reason` recorded in the audit trail. */
export const MAX_REASON_LENGTH = 500
/** Longest request id recorded in the audit trail. */
export const MAX_REQUEST_ID_LENGTH = 200

/**
 * Free text that is stored and hashed (a reason, a request id): it must come
 * back from PostgreSQL exactly as sent, so no NUL (refused) and no lone
 * surrogate (silently replaced), and it is bounded. Empty is allowed.
 */
export function isValidText (value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength && !value.includes('\u0000') && value.isWellFormed()
}

const MAX_SEQ = 9223372036854775807n

/** An audit entry's `seq`: a positive bigint, written without leading zeros. */
export function isSeq (value: unknown): value is string {
  return typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= MAX_SEQ
}
