// The enforcement hooks: principal → endpoint rules → grants → decide.
// Everything that is not an explicit allow ends in a thrown, coded error.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import { withBudget } from '../store/deadline.js'
import { decide } from '../decision/decide.js'
import { ANONYMOUS } from '../decision/principal.js'
import { levelAllows, type Policy } from '../decision/policy.js'
import { codes, deniedError } from '../errors.js'
import type { GrantReader } from '../store/reader.js'
import { isValidId } from '../decision/ids.js'
import type { Settings } from '../options.js'
import { InvalidCredentials, resolvePrincipal } from './principal.js'
import { compiledRouteOf, type CompiledRoute } from './route-config.js'
import type { RulesLayer } from '../rules/reloader.js'
import { ruleFacts } from './rule-facts.js'
import { effectiveLevel, evaluateRules, requiresBody, type CompiledRules } from '../rules/index.js'

/** Work left for preValidation when a rule filters on body parameters. */
interface Deferred {
  compiled: CompiledRules
  where: { path: string | null, trailingSlash: boolean }
  principal: Principal | null
  privilege: string | null
}
const kDeferred = Symbol('fastify-default-deny.deferred')
type WithDeferred = FastifyRequest & { [kDeferred]?: Deferred }

export interface Enforcer {
  onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  preValidation: (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void
}

export function createEnforcer (
  settings: Settings, reader: GrantReader, policy: Policy, rules: RulesLayer | null, caseSensitive: boolean
): Enforcer {
  const deny = () => deniedError(settings.hideForbidden)

  function resourceId (request: FastifyRequest, route: CompiledRoute): unknown {
    const source = route.id
    if (source === null || source.kind === 'type') return null
    if (source.kind === 'param') return (request.params as Record<string, unknown> | undefined)?.[source.name]
    return source.extract(request)
  }

  function baseLevel (principal: Principal | null): string | null {
    const level = principal?.claims?.[settings.levelClaim]
    return typeof level === 'string' ? level : null
  }

  /** Endpoint rules, then the level cap; sets `request.accessLevel`. */
  function applyRules (request: FastifyRequest, work: Deferred, withBody: boolean): void {
    const { compiled, where, principal, privilege } = work
    const outcome = evaluateRules(compiled, ruleFacts(request, where, principal, baseLevel(principal), withBody))
    if (!outcome.allow) {
      const detail = outcome.reason === 'rule'
        ? { pathKey: outcome.pathKey, group: outcome.group, ruleType: outcome.ruleType }
        : { reason: outcome.reason }
      request.log.info(detail, 'fastify-default-deny: denied by endpoint rules')
      // Diagnostics name the path key, group and rule type only: never a
      // token, certificate detail, address or parameter value.
      const suffix = compiled.settings.diagnostics
        ? outcome.reason === 'rule'
          ? `: path '${outcome.pathKey}', group '${outcome.group}', rule '${outcome.ruleType}'`
          : `: ${outcome.reason}`
        : ''
      throw new codes.FST_DEFAULT_DENY_RULE_DENIED(suffix)
    }
    const level = effectiveLevel(compiled, baseLevel(principal), outcome.elevate, outcome.demote)
    request.accessLevel = level
    capByLevel(request, level, privilege)
  }

  // Levels only ever restrict: an elevated request still needs its grant.
  function capByLevel (request: FastifyRequest, level: string | null, privilege: string | null): void {
    if (privilege === null || levelAllows(settings.levelPrivileges, level, privilege)) return
    request.log.info({ level, privilege }, 'fastify-default-deny: privilege above the request\'s level')
    throw deny()
  }

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

  function lockout (reply: FastifyReply): Error {
    const err = new codes.FST_DEFAULT_DENY_LOCKOUT() as Error & { statusCode: number }
    err.statusCode = settings.lockoutStatus
    if (settings.lockoutStatus === 503) reply.header('retry-after', String(settings.lockoutRetryAfter))
    return err
  }

  async function principalOf (request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    try {
      return await resolvePrincipal(request, settings)
    } catch (err) {
      if (err instanceof InvalidCredentials) {
        request.log.info({ reason: err.reason }, 'fastify-default-deny: invalid credentials')
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw new codes.FST_DEFAULT_DENY_UNAUTHORIZED()
      }
      request.log.error({ err }, 'fastify-default-deny: principal resolution failed; failing closed')
      throw new codes.FST_DEFAULT_DENY_UNAVAILABLE()
    }
  }

  async function onRequest (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const compiled = rules?.compiled ?? null
    if (compiled?.settings.lockout === true) throw lockout(reply)
    // The not-found handler runs no host route; it must keep answering 404.
    if (request.is404) return
    const route = compiledRouteOf(request.routeOptions.config)
    if (route === undefined) {
      request.log.warn({ route: request.routeOptions.url }, 'fastify-default-deny: route registered outside the plugin\'s reach; denied')
      throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    }
    const { requirement } = route
    if (requirement.kind === 'unannotated') {
      request.log.warn({ route: request.routeOptions.url }, 'fastify-default-deny: route has no permission annotation; denied')
      throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    }

    let principal: Principal | null = null
    if (requirement.kind !== 'public') {
      principal = await principalOf(request, reply)
      request.principal = principal
    } else if (compiled !== null) {
      // Public routes never fail on credentials; for the rules a bad token
      // simply counts as no one.
      principal = carriesNoToken(request) ? ANONYMOUS : await resolvePrincipal(request, settings).catch(() => ANONYMOUS)
    }

    if (rules !== null && compiled !== null) {
      const where = rules.rulePath(request.raw.url ?? '', caseSensitive, compiled.hasReservedKey)
      const work: Deferred = {
        compiled,
        where,
        principal,
        privilege: requirement.kind === 'resource' ? requirement.privilege : null
      }
      if (requiresBody(compiled, where.path)) {
        (request as WithDeferred)[kDeferred] = work
      } else {
        applyRules(request, work, false)
      }
    }

    if (requirement.kind === 'public') return
    const who = principal as Principal
    if (requirement.kind === 'authenticated') {
      if (decide(who, requirement, null, policy) === 'allow') return
      reply.header('www-authenticate', 'Bearer')
      throw new codes.FST_DEFAULT_DENY_UNAUTHORIZED()
    }

    let facts = null
    let id: unknown = null
    try {
      id = resourceId(request, route)
      if (id !== null && !isValidId(id, settings.maxIdLength)) {
        // No stored resource can have this id, so there is nothing to find.
        throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
      }
      if (!who.superuser) {
        const target = { resource: requirement.resource, id: id as string | null }
        facts = await withBudget(settings.checkTimeout, async (budget) => await reader.facts(who, target, undefined, budget))
      }
    } catch (err) {
      if ((err as { code?: unknown }).code === 'FST_DEFAULT_DENY_NOT_FOUND') throw err
      request.log.error({ err }, 'fastify-default-deny: grant check failed; failing closed')
      throw new codes.FST_DEFAULT_DENY_UNAVAILABLE()
    }
    if (decide(who, requirement, facts, policy) === 'allow') return
    request.log.info({
      principal: who.id,
      resource: requirement.resource,
      privilege: requirement.privilege
    }, 'fastify-default-deny: denied')
    throw deny()
  }

  // Callback style: it runs on every request once rules are configured, and
  // most have nothing deferred.
  function preValidation (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    const work = (request as WithDeferred)[kDeferred]
    if (work === undefined) return done()
    try {
      applyRules(request, work, true)
    } catch (err) {
      return done(err as Error)
    }
    done()
  }

  return { onRequest, preValidation }
}
