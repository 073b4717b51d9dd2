// The `tokenReuse` option: a request whose Authorization header was verified
// before may reuse that verification's principal. Off when absent.
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import { hasFixedKey, isDecorator, type Decorator } from '../security/jwt-probe.js'
import { invalid, positiveInteger, subOptions } from './values.js'

export const DEFAULT_TOKEN_REUSE_MAX_ENTRIES = 10_000
export const DEFAULT_TOKEN_REUSE_MAX_BYTES = 8 * 1024 * 1024
// How long a token is trusted without its verifier running again: a revoked
// key that no restart or forgetTokens() reached stops working after this.
export const DEFAULT_TOKEN_REUSE_MAX_AGE = 60_000
const KEYS = new Set(['trusted', 'maxEntries', 'maxBytes', 'maxAge'])

type Trusted = Exclude<NonNullable<FastifyDefaultDenyOptions['tokenReuse']>, false>['trusted']

export interface TokenReuseSettings {
  /** The host's revocation test, run on every request; `null`: the host said it has none. */
  readonly trusted: Exclude<Trusted, false> | null
  readonly maxEntries: number
  readonly maxBytes: number
  readonly maxAge: number
}

export function tokenReuseOption (opts: Record<string, unknown>): TokenReuseSettings | null {
  const raw = opts.tokenReuse
  if (raw === undefined || raw === false) return null
  // @fastify/jwt keeps `trusted` to itself and reuse skips it, so the host
  // must say what it is: no shorthand that would let it be forgotten.
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    invalid('tokenReuse', 'must be false or an object, { trusted: false } at least')
  }
  const fields = raw as Record<string, unknown>
  const prefixed = subOptions('tokenReuse', fields, KEYS)
  const trusted = fields.trusted
  if (trusted !== false && typeof trusted !== 'function') {
    invalid('tokenReuse.trusted', 'must be false (no @fastify/jwt `trusted` is registered) or the function that tests a token, run on every request')
  }
  return Object.freeze({
    trusted: trusted === false ? null : trusted as Exclude<Trusted, false>,
    maxEntries: positiveInteger(prefixed, 'tokenReuse.maxEntries', DEFAULT_TOKEN_REUSE_MAX_ENTRIES, 1_000_000),
    maxBytes: positiveInteger(prefixed, 'tokenReuse.maxBytes', DEFAULT_TOKEN_REUSE_MAX_BYTES, 2 ** 32),
    maxAge: positiveInteger(prefixed, 'tokenReuse.maxAge', DEFAULT_TOKEN_REUSE_MAX_AGE, 3_600_000)
  })
}

/** What reuse reads of @fastify/jwt: where it puts the user, and its `verify.maxAge`. */
export interface JwtForReuse {
  readonly decoratorName: string
  /** `verify.maxAge` in milliseconds: a token is refused that long after its `iat`. */
  readonly maxAge: number | null
}

/**
 * @fastify/jwt's configuration as far as reuse depends on it (`fastify.jwt`),
 * refusing what a reused token would skip and the plugin cannot do itself.
 */
export function jwtForReuse (jwt: unknown): JwtForReuse {
  if (!isDecorator(jwt)) invalid('tokenReuse', 'needs @fastify/jwt registered without a namespace: its configuration is read from fastify.jwt')
  const { options } = jwt as Decorator & { options?: { verify?: Record<string, unknown>, decoratorName?: unknown }, cookie?: unknown }
  const verify = options?.verify ?? {}
  // Only a fixed key gives the same answer for the same bytes; a key function
  // (rotation, a key set fetched by `kid`) must be asked on every request.
  if (!hasFixedKey(jwt)) {
    invalid('tokenReuse', "cannot be used with @fastify/jwt's secret function (a key looked up or rotated per token), which a reused token would skip: use @fastify/jwt's verify: { cache: true } instead")
  }
  // The map is keyed by the Authorization header: the token must come from it alone.
  if ((jwt as { cookie?: unknown }).cookie != null || verify.extractToken != null || verify.onlyCookie === true) {
    invalid('tokenReuse', 'reuses tokens of the Authorization header only: @fastify/jwt is configured to read a cookie or to extract the token itself')
  }
  // A matcher with its own test() may change its answer (a revocation list
  // spelled as allowedJti); strings and regular expressions cannot.
  for (const name of ['allowedJti', 'allowedAud', 'allowedIss', 'allowedSub', 'allowedNonce']) {
    const values = verify[name] == null ? [] : Array.isArray(verify[name]) ? verify[name] as unknown[] : [verify[name]]
    if (!values.every((value) => typeof value === 'string' || value instanceof RegExp)) {
      invalid('tokenReuse', `cannot be used with @fastify/jwt's verify.${name} given a matcher with its own test(), which a reused token would skip: use strings or regular expressions, or tokenReuse.trusted`)
    }
  }
  const maxAge = verify.maxAge
  if (maxAge != null && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0)) {
    invalid('tokenReuse', "needs @fastify/jwt's verify.maxAge as a number of seconds, to end a reused token when @fastify/jwt would")
  }
  const decoratorName = options?.decoratorName
  return Object.freeze({
    decoratorName: typeof decoratorName === 'string' ? decoratorName : 'user',
    maxAge: maxAge == null ? null : (maxAge as number) * 1000
  })
}
