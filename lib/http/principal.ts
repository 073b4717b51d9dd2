import type {} from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import { isValidId } from '../decision/ids.js'
import { codes } from '../errors.js'
import { ANONYMOUS, userPrincipal } from '../decision/principal.js'
import type { EnforcementOptions, PrincipalOptions } from '../options/index.js'
import type { TokenReuse } from './token-reuse.js'

/** What turning a token into a principal reads of the settings. */
export type PrincipalSettings = PrincipalOptions & Pick<EnforcementOptions, 'maxIdLength'>

// @fastify/jwt reports "no token at all" with these codes; any other failure
// means credentials were sent and are bad, which must never become anonymous.
const NO_TOKEN_CODES = new Set(['FST_JWT_NO_AUTHORIZATION_IN_HEADER', 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE'])

export class InvalidCredentials extends Error {
  constructor (readonly reason: string) {
    super(reason)
  }
}

export class ResolverFailure extends Error {}

function validGroups (value: unknown, maxIdLength: number): value is string[] {
  return Array.isArray(value) && value.every((group) => isValidId(group, maxIdLength))
}

// The principal made from a claims object seen before. With its
// verified-token cache on (`verify: { cache: true }`), @fastify/jwt hands back
// the same claims object for the same token for as long as it trusts it: it
// still runs its secret lookup, `trusted` and the expiry test on every
// request, and a changed key gets a verifier with an empty cache, so this
// keeps no token alive that @fastify/jwt would refuse. The principal is then
// made once per token instead of once per request (claims copied, groups
// checked). Without that cache every claims object is new and this is one
// WeakMap miss. Keyed weakly: an entry goes when @fastify/jwt drops the claims.
const made = new WeakMap<object, { settings: PrincipalSettings, principal: Principal }>()

function principalFromClaims (claims: Record<string, unknown>, settings: PrincipalSettings): Principal {
  const seen = made.get(claims)
  if (seen !== undefined && seen.settings === settings) return seen.principal
  const principal = makePrincipal(claims, settings)
  made.set(claims, { settings, principal })
  return principal
}

function makePrincipal (claims: Record<string, unknown>, settings: PrincipalSettings): Principal {
  const id = claims[settings.userClaim]
  if (!isValidId(id, settings.maxIdLength)) throw new InvalidCredentials('token has no valid user claim')
  const groups = claims[settings.groupsClaim] ?? []
  // Bounded before anything walks the list: every group costs work on each check.
  if (Array.isArray(groups) && groups.length > settings.maxGroups) {
    throw new InvalidCredentials(`token carries more than maxGroups (${settings.maxGroups}) groups`)
  }
  if (!validGroups(groups, settings.maxIdLength)) throw new InvalidCredentials('token has an invalid groups claim')
  return userPrincipal(id, [...new Set(groups)], settings.superuserClaim !== false && claims[settings.superuserClaim] === true, claims)
}

async function principalFromResolver (request: FastifyRequest, claims: Record<string, unknown>, settings: PrincipalSettings): Promise<Principal> {
  const resolved = await (settings.resolvePrincipal as NonNullable<PrincipalSettings['resolvePrincipal']>)(request, claims)
  // A resolver is host code: a malformed answer is a server fault (503), not the client's.
  if (typeof resolved !== 'object' || resolved === null ||
    !isValidId(resolved.id, settings.maxIdLength) ||
    !validGroups(resolved.groups, settings.maxIdLength) ||
    typeof resolved.superuser !== 'boolean') {
    throw new ResolverFailure('resolvePrincipal returned an invalid principal')
  }
  if (resolved.groups.length > settings.maxGroups) {
    throw new ResolverFailure(`resolvePrincipal returned more than maxGroups (${settings.maxGroups}) groups`)
  }
  return userPrincipal(resolved.id, [...new Set(resolved.groups)], resolved.superuser, claims)
}

/** The host's `tokenReuse.trusted`, on a token verified now or before: refused is a 401, a throw a 503. */
async function trust (request: FastifyRequest, claims: Record<string, unknown>, tokens: TokenReuse | null): Promise<void> {
  const trusted = tokens?.trusted ?? null
  if (trusted === null) return
  let answer: boolean
  try {
    answer = await trusted(request, claims)
  } catch (err) {
    throw new ResolverFailure('tokenReuse.trusted failed', { cause: err })
  }
  if (answer !== true) throw new InvalidCredentials('token not trusted (tokenReuse.trusted)')
}

/**
 * The verified principal of a request. Throws `InvalidCredentials` (401) for
 * anything wrong with a token that was sent, and lets resolver errors through
 * (the caller fails closed with 503). With `tokens`, a header verified before
 * is not verified again.
 */
export async function resolvePrincipal (request: FastifyRequest, settings: PrincipalSettings, tokens: TokenReuse | null = null): Promise<Principal> {
  const seen = tokens?.seen(request)
  if (seen !== undefined) {
    await trust(request, seen.claims, tokens)
    return seen.principal ?? await principalFromResolver(request, seen.claims, settings)
  }
  let claims: unknown
  try {
    claims = await request.jwtVerify()
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code
    if (request.headers.authorization === undefined && typeof code === 'string' && NO_TOKEN_CODES.has(code)) {
      return ANONYMOUS
    }
    throw new InvalidCredentials(typeof code === 'string' ? code : 'token rejected')
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new InvalidCredentials('token payload is not an object')
  }
  const record = claims as Record<string, unknown>
  if (tokens === null) {
    return settings.resolvePrincipal === null
      ? principalFromClaims(record, settings)
      : await principalFromResolver(request, record, settings)
  }
  await trust(request, record, tokens)
  if (settings.resolvePrincipal !== null) {
    const principal = await principalFromResolver(request, record, settings)
    tokens.remember(request, record, null)
    return principal
  }
  const principal = principalFromClaims(record, settings)
  tokens.remember(request, record, principal)
  return principal
}

/**
 * The signed-in user making the request: on an `'authenticated'` or resource
 * route the plugin has already refused anonymous requests, so this narrows
 * the type without assertions. Anywhere else (a `'public'` route, anonymous)
 * it throws the plugin's 401, so a handler cannot go on without a user.
 */
export function requireUser (request: FastifyRequest): Principal & { kind: 'user', id: string } {
  const principal = request.principal
  if (principal === null || principal === undefined || principal.kind !== 'user' || principal.id === null) {
    throw new codes.FST_DEFAULT_DENY_UNAUTHORIZED()
  }
  return principal as Principal & { kind: 'user', id: string }
}
