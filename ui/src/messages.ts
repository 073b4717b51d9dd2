// The API's refusals as sentences a person can act on. Codes are the
// plugin's stable ones (lib/errors.ts); the wording is the page's own, so
// nothing attacker-controlled is read out as ours. The one exception is a
// refusal of what this page itself just sent (400): the server names the
// field and the rule there, and echoes only that input, quoted and cut
// short, so its words are shown, after the page's own, as text.
import { ApiError } from './api.js'

export interface Context {
  /** What a plain 403/404 means where it happened. */
  forbidden?: string
}

const BY_CODE: Record<string, string> = {
  FST_DEFAULT_DENY_ESCALATION: 'Refused: you can only grant or take away privileges you hold yourself on this resource, only the owner or a superuser may hand on ownership, and manage may be passed on only where delegation is allowed.',
  FST_DEFAULT_DENY_LAST_MANAGER: 'Refused: this change would leave the resource with no owner and no one who manages it. Give someone else manage, or a new owner, first.',
  FST_DEFAULT_DENY_INELIGIBLE: 'Refused: this grantee may not hold this privilege (everyone-anonymous may only be given some privileges, and the application may refuse others).',
  FST_DEFAULT_DENY_INVALID_REQUEST: 'The request was not accepted: check the ids, the privilege, the dates (an expiry must be in the future, a start before the expiry) and the reason (at most 500 characters).',
  FST_DEFAULT_DENY_STEP_UP_REQUIRED: 'This change needs a second authentication factor: sign in again with one, then use the new token.',
  FST_DEFAULT_DENY_UNAUTHORIZED: 'Your token was not accepted: it is missing, expired or invalid. Paste a new one.',
  FST_DEFAULT_DENY_UNAVAILABLE: 'The permission service is unavailable for the moment; nothing was changed. Try again shortly.',
  FST_DEFAULT_DENY_LOCKOUT: 'The service is locked for maintenance; nothing was changed.',
  FST_DEFAULT_DENY_MEMBERSHIP_LIMIT: 'Refused: this membership change would reach more members and groups at once than the application allows (maxMembershipChange); nothing was changed. Split it into smaller changes.',
  FST_DEFAULT_DENY_RULE_DENIED: 'A security rule of this server refused the request.'
}

const DEFAULT_FORBIDDEN = 'You may not see or change this: only the owner, a superuser or a holder of manage may.'

export function sentence (err: unknown, context: Context = {}): string {
  if (!(err instanceof ApiError)) return 'Something went wrong in the page; nothing was sent.'
  if (err.status === 0) return 'The server could not be reached; nothing was changed.'
  if (err.code === 'FST_DEFAULT_DENY_FORBIDDEN' || err.code === 'FST_DEFAULT_DENY_NOT_FOUND') return context.forbidden ?? DEFAULT_FORBIDDEN
  if (err.code === 'FST_DEFAULT_DENY_INVALID_REQUEST' && err.detail !== null) return `The request was not accepted: ${err.detail.message}.`
  if (err.code !== null && BY_CODE[err.code] !== undefined) return BY_CODE[err.code] as string
  if (err.status === 401) return BY_CODE.FST_DEFAULT_DENY_UNAUTHORIZED as string
  if (err.status === 403 || err.status === 404) return context.forbidden ?? DEFAULT_FORBIDDEN
  if (err.status === 400 || err.status === 413 || err.status === 415) return BY_CODE.FST_DEFAULT_DENY_INVALID_REQUEST as string
  if (err.status === 503) return BY_CODE.FST_DEFAULT_DENY_UNAVAILABLE as string
  return `The server answered ${err.status}; nothing was changed.`
}
