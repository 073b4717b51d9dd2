// Who is asking, for the enforcement hook: a verified principal where the
// route needs one (bad credentials are a 401, a failing resolver a 503), or
// for the endpoint rules on a public route, whoever the token says, if any.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import { ANONYMOUS } from '../decision/principal.js'
import { codes } from '../errors.js'
import { InvalidCredentials, resolvePrincipal, type PrincipalSettings } from './principal.js'
import type { TokenReuse } from './token-reuse.js'

export interface Credentials {
  /**
   * Without a promise: the principal of a header verified before, when
   * nothing is left to wait for (no `tokenReuse.trusted`, no resolver).
   */
  reused: (request: FastifyRequest) => Principal | undefined
  /** The request's principal; throws the coded 401 or 503 the hook answers with. */
  required: (request: FastifyRequest, reply: FastifyReply) => Promise<Principal>
  /** Public routes never fail on credentials: for the rules a bad token is no one. */
  optional: (request: FastifyRequest) => Promise<Principal>
}

export function createCredentials (settings: PrincipalSettings, tokens: TokenReuse | null = null): Credentials {
  const synchronous = tokens !== null && tokens.trusted === null && settings.resolvePrincipal === null

  // Whether a request without an Authorization header can carry no token at
  // all, so that verifying it would only raise @fastify/jwt's "no token"
  // error (costly: it builds an Error with a stack). Not so when @fastify/jwt
  // also reads a cookie or has its own extractToken. Read once: the JWT
  // configuration is fixed by the time requests arrive.
  let headerOnlyTokens: boolean | undefined
  function carriesNoToken (request: FastifyRequest): boolean {
    if (request.headers.authorization !== undefined) return false
    if (headerOnlyTokens === undefined) {
      const jwt = (request.server as { jwt?: { cookie?: unknown, options?: { verify?: { extractToken?: unknown } } } }).jwt
      headerOnlyTokens = jwt !== undefined && jwt.cookie == null && jwt.options?.verify?.extractToken == null
    }
    return headerOnlyTokens
  }

  return {
    reused (request) {
      return synchronous ? (tokens as TokenReuse).seen(request)?.principal ?? undefined : undefined
    },
    async required (request, reply) {
      try {
        return await resolvePrincipal(request, settings, tokens)
      } catch (err) {
        if (err instanceof InvalidCredentials) {
          request.log.info({ reason: err.reason }, 'fastify-default-deny: invalid credentials')
          reply.header('www-authenticate', 'Bearer error="invalid_token"')
          throw new codes.FST_DEFAULT_DENY_UNAUTHORIZED()
        }
        request.log.error({ err }, 'fastify-default-deny: principal resolution failed; failing closed')
        throw new codes.FST_DEFAULT_DENY_UNAVAILABLE()
      }
    },
    async optional (request) {
      return carriesNoToken(request) ? ANONYMOUS : await resolvePrincipal(request, settings, tokens).catch(() => ANONYMOUS)
    }
  }
}
