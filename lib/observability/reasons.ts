// The words a decision is described by, in metrics labels, span attributes
// and diagnostics-channel messages: a fixed set, so labels stay bounded.
import { codes } from '../errors.js'

export type Outcome = 'allow' | 'deny' | 'error'
/** What answered: the decision cache, a query, or nothing needed one. */
export type AnsweredBy = 'cache' | 'database' | 'none'
/**
 * Why. `no_grant` covers a grant that has not started or has expired too:
 * the check's one statement says only that nothing counts, and finding out
 * which would cost a second query on the request's path.
 */
export type Reason = 'grant' | 'superuser' | 'authenticated' | 'no_grant' | 'not_found' | 'step_up' | 'rules' |
'unauthenticated' | 'unannotated' | 'lockout' | 'unavailable' | 'other'

const BY_CODE: ReadonlyMap<string, Reason> = new Map([
  [new codes.FST_DEFAULT_DENY_STEP_UP_REQUIRED().code, 'step_up'],
  [new codes.FST_DEFAULT_DENY_RULE_DENIED('').code, 'rules'],
  [new codes.FST_DEFAULT_DENY_LOCKOUT().code, 'lockout'],
  [new codes.FST_DEFAULT_DENY_UNAVAILABLE().code, 'unavailable'],
  [new codes.FST_DEFAULT_DENY_UNAUTHORIZED().code, 'unauthenticated']
])

/** The reason a refusal carries when the hook did not name one itself. */
export function reasonOf (err: unknown): Reason {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return 'other'
  // @fastify/jwt's refusals: the token is missing, malformed or expired.
  if (code.startsWith('FST_JWT_')) return 'unauthenticated'
  return BY_CODE.get(code) ?? 'other'
}

export const outcomeOf = (reason: Reason): Outcome => reason === 'unavailable' || reason === 'other' ? 'error' : 'deny'
