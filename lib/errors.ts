import createError from '@fastify/error'

// Messages of refusals are deliberately generic: the resource, id and missing
// privilege go to the log, never to the client. Refusals of a client's own
// input say what to fix instead (see `invalidInput`).
export const codes = {
  FST_DEFAULT_DENY_UNAUTHORIZED: createError('FST_DEFAULT_DENY_UNAUTHORIZED', 'Unauthorized', 401),
  FST_DEFAULT_DENY_FORBIDDEN: createError('FST_DEFAULT_DENY_FORBIDDEN', 'Forbidden', 403),
  FST_DEFAULT_DENY_NOT_FOUND: createError('FST_DEFAULT_DENY_NOT_FOUND', 'Not Found', 404),
  FST_DEFAULT_DENY_UNAVAILABLE: createError('FST_DEFAULT_DENY_UNAVAILABLE', 'Authorization is temporarily unavailable', 503),
  FST_DEFAULT_DENY_INVALID_OPTION: createError<[string, string]>('FST_DEFAULT_DENY_INVALID_OPTION', "option '%s' %s", 500, TypeError),
  FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG: createError<[string, string]>('FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG', "route '%s': %s", 500, TypeError),
  FST_DEFAULT_DENY_INVALID_GRANT: createError<[string]>('FST_DEFAULT_DENY_INVALID_GRANT', 'invalid grant: %s', 400),
  FST_DEFAULT_DENY_MIGRATION_FAILED: createError<[string]>('FST_DEFAULT_DENY_MIGRATION_FAILED', 'migration failed: %s', 500),
  FST_DEFAULT_DENY_INSECURE: createError<[string]>('FST_DEFAULT_DENY_INSECURE', "insecure configuration in production: %s (fix them, or name them in the 'acknowledge' option)", 500),
  FST_DEFAULT_DENY_INVALID_REQUEST: createError<[string]>('FST_DEFAULT_DENY_INVALID_REQUEST', '%s', 400),
  FST_DEFAULT_DENY_ESCALATION: createError('FST_DEFAULT_DENY_ESCALATION', 'You cannot grant a privilege you do not hold', 403),
  FST_DEFAULT_DENY_INELIGIBLE: createError('FST_DEFAULT_DENY_INELIGIBLE', 'This principal may not hold this privilege', 422),
  FST_DEFAULT_DENY_LAST_MANAGER: createError('FST_DEFAULT_DENY_LAST_MANAGER', 'This change would leave the resource without an owner or manager', 409),
  FST_DEFAULT_DENY_RULE_DENIED: createError<[string]>('FST_DEFAULT_DENY_RULE_DENIED', 'Forbidden%s', 403),
  FST_DEFAULT_DENY_LOCKOUT: createError('FST_DEFAULT_DENY_LOCKOUT', 'The service is locked for maintenance', 503),
  FST_DEFAULT_DENY_INVALID_RULES: createError<[string]>('FST_DEFAULT_DENY_INVALID_RULES', '%s', 500),
  FST_DEFAULT_DENY_ALREADY_REGISTERED: createError('FST_DEFAULT_DENY_ALREADY_REGISTERED', 'fastify-default-deny is already registered on this instance', 500),
  FST_DEFAULT_DENY_JWT_MISSING: createError('FST_DEFAULT_DENY_JWT_MISSING', 'register @fastify/jwt before fastify-default-deny: it verifies every token with request.jwtVerify()', 500),
  FST_DEFAULT_DENY_STEP_UP_REQUIRED: createError('FST_DEFAULT_DENY_STEP_UP_REQUIRED', 'A stronger authentication is required', 401),
  FST_DEFAULT_DENY_INVALID_REVISION: createError('FST_DEFAULT_DENY_INVALID_REVISION', 'Invalid revision', 400),
  FST_DEFAULT_DENY_DATABASE_LOCKED: createError<[string, string]>('FST_DEFAULT_DENY_DATABASE_LOCKED',
    'the embedded database in %s is in use by %s: stop that process first, or, for several processes on one database, use PostgreSQL (DATABASE_URL, or the connectionString option)', 500),
  FST_DEFAULT_DENY_MEMBERSHIP_LIMIT: createError<[string]>('FST_DEFAULT_DENY_MEMBERSHIP_LIMIT', 'membership change too large: one change may add, remove or move at most %s member-group pairs (maxMembershipChange); this one reaches more', 422)
}

/**
 * The refusal of a request no grant allows: 403, or with `hideForbidden` a
 * 404 indistinguishable from a missing resource.
 */
export function deniedError (hideForbidden: boolean): Error {
  // Refusals are a large share of a real app's traffic and their stack says
  // nothing (always this function): skip capturing it.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return hideForbidden ? new codes.FST_DEFAULT_DENY_NOT_FOUND() : new codes.FST_DEFAULT_DENY_FORBIDDEN()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** The 401 of a request whose token lacks the second factor its route needs; stackless like deniedError. */
export function stepUpRequiredError (): Error {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new codes.FST_DEFAULT_DENY_STEP_UP_REQUIRED()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** Where a refused value was: a JSON pointer into the input and, over HTTP, the part of the request. */
export interface InputLocation {
  field?: string
  in?: 'body' | 'path' | 'query' | 'header'
}

/** A refusal of the caller's own input, carrying where it was as properties (`error.field`, `error.in`). */
export function invalidInput (error: Error, location: InputLocation): Error {
  for (const [key, value] of Object.entries(location)) {
    if (value !== undefined) Object.defineProperty(error, key, { value, enumerable: true, configurable: true, writable: true })
  }
  return error
}

const QUOTED_LENGTH = 40
// C0 and C1 controls, line and paragraph separators, bidirectional overrides
// and lone surrogates: what could make a message print as something else.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * What a caller sent, for a message that echoes it: a string quoted, cut to
 * 40 characters and with every control character escaped; other values by
 * their kind, never their contents.
 */
export function quoted (value: unknown): string {
  if (typeof value === 'string') {
    const cut = [...value]
    const text = cut.length > QUOTED_LENGTH ? `${cut.slice(0, QUOTED_LENGTH).join('')}…` : value
    return `"${text.replace(/["\\]/g, '\\$&').replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
