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
 * back from PostgreSQL exactly as sent, so no NUL (refused), no lone
 * surrogate (silently replaced) and no leading byte order mark (see BOM), and
 * it is bounded. Empty is allowed.
 */
export function isValidText (value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength && !value.includes('\u0000') && value.isWellFormed() && !value.startsWith(BOM)
}

// The embedded database's client decodes every text value it returns with a
// decoder that drops a leading byte order mark, so such a value would not
// come back as stored there while PostgreSQL keeps it: refused everywhere, so
// both backends behave alike.
const BOM = '\ufeff'

const MAX_SEQ = 9223372036854775807n

/** An audit entry's `seq`: a positive bigint, written without leading zeros. */
export function isSeq (value: unknown): value is string {
  return typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= MAX_SEQ
}
