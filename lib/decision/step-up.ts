// Multi-factor step-up: whether a privilege needs a second factor, and
// whether a token's claims carry one recent enough. Pure: the claims and the
// instant come in, a verdict goes out, so the rule is the same for the route
// check, the grant API and explain.
import type { Explanation, Principal, StepUpStatus } from '../../fastify-plugin.js'

/** The `stepUp` option, validated. */
export interface StepUpPolicy {
  /** The privileges whose routes need the second factor: those a route requires, not those that imply them. */
  privileges: ReadonlySet<string>
  /** The claim that names how the user authenticated: `amr` (an array) or e.g. `acr` (a string). */
  claim: string
  /** Any one of these in the claim is a second factor. */
  values: ReadonlySet<string>
  /** Seconds since `auth_time` within which the second factor counts; `null`: any age. */
  maxAge: number | null
  /** What the challenge asks the authorization server for (RFC 9470 `acr_values`); empty: nothing. */
  acrValues: readonly string[]
}

/** Why a token falls short: no accepted value in the claim, or an `auth_time` missing or too old. */
export type StepUpShortfall = 'factor' | 'max_age'

/**
 * Seconds an `auth_time` may lie ahead of this server's clock (the issuer's
 * clock may run ahead); later than that it is no evidence of anything.
 */
export const AUTH_TIME_LEEWAY = 60

/** Whether a route requiring `privilege` needs step-up: worked out once per route. */
export function requiresStepUp (policy: StepUpPolicy | null, privilege: string): boolean {
  return policy !== null && policy.privileges.has(privilege)
}

function carriesFactor (value: unknown, accepted: ReadonlySet<string>): boolean {
  if (typeof value === 'string') return accepted.has(value)
  if (!Array.isArray(value)) return false
  for (const item of value) if (typeof item === 'string' && accepted.has(item)) return true
  return false
}

/**
 * What the verified claims of a token lack for step-up at `now` (epoch
 * milliseconds), or `null` when they satisfy it. No token (`null`) has no
 * second factor.
 *
 * @example
 * stepUpShortfall(policy, { sub: 'alice', amr: ['pwd', 'otp'] }, Date.now()) // null
 * stepUpShortfall(policy, { sub: 'alice', amr: ['pwd'] }, Date.now()) // 'factor'
 */
export function stepUpShortfall (policy: StepUpPolicy, claims: Readonly<Record<string, unknown>> | null, now: number): StepUpShortfall | null {
  if (claims === null || !carriesFactor(claims[policy.claim], policy.values)) return 'factor'
  if (policy.maxAge === null) return null
  const authTime = claims.auth_time
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return 'max_age'
  const seconds = now / 1000
  if (authTime > seconds + AUTH_TIME_LEEWAY || seconds - authTime > policy.maxAge) return 'max_age'
  return null
}

export type StepUpVerdict = 'not-required' | 'satisfied' | StepUpShortfall

/** Does this principal's token satisfy step-up for `privilege` at `now`? */
export function stepUpVerdict (policy: StepUpPolicy | null, principal: Principal, privilege: string, now: number): StepUpVerdict {
  if (policy === null || !requiresStepUp(policy, privilege)) return 'not-required'
  return stepUpShortfall(policy, principal.claims, now) ?? 'satisfied'
}

/**
 * Adds to an explanation which privileges need step-up and, for the asked
 * one, whether the principal's token has it. A user principal built from an
 * id alone (no claims) is not judged: `satisfied` is `null`.
 */
export function explainStepUp (
  explanation: Explanation, principal: Principal, policy: StepUpPolicy | null, asked: string | null, now: number
): Explanation {
  if (policy === null) return explanation
  const privileges = explanation.privileges.map((entry) =>
    policy.privileges.has(entry.privilege) ? { ...entry, stepUp: true } : entry)
  if (asked === null) {
    const covered = privileges.filter((entry) => entry.stepUp === true).map((entry) => entry.privilege)
    const summary = covered.length === 0
      ? explanation.summary
      : `${explanation.summary}; ${covered.join(', ')} ${covered.length === 1 ? 'needs' : 'need'} a second factor (step-up)`
    return { ...explanation, privileges, summary }
  }
  const verdict = stepUpVerdict(policy, principal, asked, now)
  if (verdict === 'not-required') return { ...explanation, privileges }
  const unjudged = principal.kind === 'user' && principal.claims === null
  const stepUp: StepUpStatus = unjudged
    ? { privilege: asked, satisfied: null }
    : verdict === 'satisfied' ? { privilege: asked, satisfied: true } : { privilege: asked, satisfied: false, missing: verdict }
  const within = policy.maxAge === null ? '' : ` from the last ${policy.maxAge} s`
  const sentence = stepUp.satisfied === null
    ? `${asked} also needs a second factor${within} in the token (step-up)`
    : stepUp.satisfied
      ? `${asked} also needs a second factor${within} (step-up), and the token has one`
      : verdict === 'factor'
        ? `${asked} also needs a second factor (step-up), which the token lacks: 401 until the user steps up`
        : `${asked} also needs a second factor from the last ${String(policy.maxAge)} s (step-up), and the token's is older or undated: 401 until the user steps up`
  return { ...explanation, privileges, stepUp, summary: `${explanation.summary}; ${sentence}` }
}
