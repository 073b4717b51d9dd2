// The enforcement hook: route annotation → principal → endpoint rules → step-up →
// grants → decide. Everything that is not an explicit allow ends in a
// thrown, coded error.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import { decide as decideRoute } from '../decision/decide.js'
import { isValidId } from '../decision/ids.js'
import { overrides } from '../decision/rule.js'
import type { Policy } from '../decision/policy.js'
import { codes, deniedError } from '../errors.js'
import type { AnsweredBy, Observer, ReadNote, Reason } from '../observability/index.js'
import { outcomeOf, reasonOf } from '../observability/reasons.js'
import type { EnforcementOptions, StepUpPolicy } from '../options/index.js'
import { presentedRevision, REVISION_HEADER } from '../revision.js'
import type { RulesLayer } from '../rules/reloader.js'
import type { Authorizer } from '../service/authorizer.js'
import { Deadlines } from '../store/deadline.js'
import { createCredentials } from './credentials.js'
import type { PrincipalSettings } from './principal.js'
import type { TokenReuse } from './token-reuse.js'
import { compiledRouteOf, type CompiledRoute } from './route-config.js'
import { createRulesStep, type RulesStepSettings } from './rules-step.js'
import { createStepUpGate } from './step-up.js'

export type EnforcerSettings = PrincipalSettings & RulesStepSettings &
Pick<EnforcementOptions, 'checkTimeout' | 'lockoutStatus' | 'lockoutRetryAfter'> & { readonly stepUp: StepUpPolicy | null }

export interface EnforcerProps {
  readonly settings: EnforcerSettings
  /** Decides the grants part, as it does for `app.permissions`. */
  readonly authorizer: Authorizer
  readonly policy: Policy
  readonly rules: RulesLayer | null
  /** The router's case sensitivity: rule paths compare the same way. */
  readonly caseSensitive: boolean
  /** Told of every decision the hook makes (public routes make none). */
  readonly observer: Observer
  /** With `tokenReuse`: the verified tokens. */
  readonly tokens: TokenReuse | null
}

/** What the hook learns of one request's decision on its way, for the observer. */
interface Decision {
  resource: string
  privilege: string
  /** Set where the hook knows why; otherwise read from what it threw. */
  reason: Reason | null
  answeredBy: AnsweredBy
  queried: number | null
  revision: bigint | null
  note: ReadNote | null
  id: string | null
  principal: Principal | null
  /** A public route: nothing to decide, nothing recorded. */
  public: boolean
  /** The route's pattern, once read (`request.routeOptions` builds an object on every read). */
  url: string | undefined
}

export interface Enforcer {
  /** Callback style: a request decided from memory goes on without a promise. */
  onRequest: (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void
  /** Only when endpoint rules are configured: the rules that need the parsed body. */
  preValidation: ((request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void) | null
}

type ResourceRequirement = Extract<CompiledRoute['requirement'], { kind: 'resource' }>
type AnnotatedRoute = CompiledRoute & { requirement: Exclude<CompiledRoute['requirement'], { kind: 'unannotated' }> }

/** The rules' lockout switch is on: every request is refused. */
function lockout (settings: EnforcerSettings, reply: FastifyReply): Error {
  const err = new codes.FST_DEFAULT_DENY_LOCKOUT() as Error & { statusCode: number }
  err.statusCode = settings.lockoutStatus
  if (settings.lockoutStatus === 503) reply.header('retry-after', String(settings.lockoutRetryAfter))
  return err
}

/** A check that could not be made: fail closed. */
function unavailable (request: FastifyRequest, err: unknown): Error {
  request.log.error({ err }, 'fastify-default-deny: grant check failed; failing closed')
  return new codes.FST_DEFAULT_DENY_UNAVAILABLE()
}

function resourceId (request: FastifyRequest, route: CompiledRoute): unknown {
  const source = route.id
  if (source === null || source.kind === 'type') return null
  if (source.kind === 'param') return (request.params as Record<string, unknown> | undefined)?.[source.name]
  return source.extract(request)
}

export function createEnforcer ({ settings, authorizer, policy, rules, caseSensitive, observer, tokens }: EnforcerProps): Enforcer {
  const credentials = createCredentials(settings, tokens)
  const checks = new Deadlines(settings.checkTimeout)
  const rulesStep = rules === null ? null : createRulesStep(settings, rules, caseSensitive)
  const stepUp = settings.stepUp === null ? null : createStepUpGate(settings.stepUp)

  /** The route's compiled annotation; a route without one is denied. */
  function routeOf (request: FastifyRequest, decision: Decision): AnnotatedRoute {
    const options = request.routeOptions
    decision.url = options.url
    const route = compiledRouteOf(options.config)
    if (route === undefined) {
      request.log.warn({ route: request.routeOptions.url }, 'fastify-default-deny: route registered outside the plugin\'s reach; denied')
      throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    }
    if (route.requirement.kind === 'unannotated') {
      request.log.warn({ route: request.routeOptions.url }, 'fastify-default-deny: route has no permission annotation; denied')
      throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    }
    return route as AnnotatedRoute
  }

  /**
   * The grants part: one prepared yes/no check, bounded by checkTimeout. Not
   * async: a cached answer is decided without a promise.
   */
  function checkGrant (request: FastifyRequest, route: CompiledRoute, requirement: ResourceRequirement, who: Principal, decision: Decision): Promise<void> | undefined {
    let id: unknown = null
    try {
      id = resourceId(request, route)
    } catch (err) {
      return Promise.reject(unavailable(request, err))
    }
    // No stored resource can have this id, so there is nothing to find.
    if (id !== null && !isValidId(id, settings.maxIdLength)) {
      decision.reason = 'not_found'
      throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    }
    decision.id = id as string | null
    // "At least as fresh as": a client that has just changed grants can demand its change be seen.
    const revision = presentedRevision(request.headers[REVISION_HEADER])
    decision.revision = revision
    const asked = { principal: who, resource: requirement.resource, id: id as string | null, privilege: requirement.privilege }
    const known = authorizer.known(asked, { revision })
    if (known !== undefined) {
      decision.answeredBy = overrides(who) ? 'none' : 'cache'
      decided(known)
      return undefined
    }
    decision.answeredBy = 'database'
    decision.queried = performance.now()
    // Where the answer came from is noted only when a span or a subscriber will read it.
    const note = observer.detailed ? { standby: null } : undefined
    if (note !== undefined) decision.note = note
    return checks.run((budget) => authorizer.ask(asked, { revision, budget, note })).then(decided, failed)

    function decided (allowed: boolean): void {
      decision.reason = allowed ? decision.answeredBy === 'none' ? 'superuser' : 'grant' : 'no_grant'
      if (allowed) return
      // What a developer needs to see why: never the token.
      request.log.info({
        route: decision.url,
        principal: who.id,
        resource: requirement.resource,
        id,
        privilege: requirement.privilege
      }, 'fastify-default-deny: denied')
      throw deniedError(settings.hideForbidden)
    }
    function failed (err: unknown): never {
      throw unavailable(request, err)
    }
  }

  /** Tells the observer what the hook decided: allowed, or refused with `err`. */
  function observe (request: FastifyRequest, decision: Decision, started: number, err: unknown): void {
    const reason = decision.reason ?? (err === undefined ? 'other' : reasonOf(err))
    observer.decision({
      route: decision.url ?? request.routeOptions.url ?? '',
      resource: decision.resource,
      privilege: decision.privilege,
      outcome: err === undefined ? 'allow' : outcomeOf(reason),
      reason,
      answeredBy: decision.answeredBy,
      started,
      queried: decision.queried,
      revision: decision.revision,
      note: decision.note,
      principalId: decision.principal?.id ?? null,
      resourceId: decision.id,
      request,
      count: 1
    })
  }

  // The decision, with what the observer is told about it. Refusals are
  // thrown (synchronously, or as the rejection of what is left to wait for).
  function onRequest (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    // The not-found handler runs no host route; it must keep answering 404 (or the lockout's answer).
    if (request.is404) {
      try {
        enforce(request, reply, null)
      } catch (err) {
        done(err as Error)
        return
      }
      done()
      return
    }
    const started = performance.now()
    const decision: Decision = { resource: '', privilege: '', reason: null, answeredBy: 'none', queried: null, revision: null, note: null, id: null, principal: null, public: false, url: undefined }
    let pending: Promise<void> | undefined
    try {
      pending = enforce(request, reply, decision)
    } catch (err) {
      refused(request, decision, started, err, done)
      return
    }
    if (pending === undefined) {
      allowed(request, decision, started, done)
      return
    }
    pending.then(() => { allowed(request, decision, started, done) }, (err: unknown) => { refused(request, decision, started, err, done) })
  }

  // The refusal stands whatever the observer does: its own failure is logged, not answered.
  function refused (request: FastifyRequest, decision: Decision, started: number, err: unknown, done: (err?: Error) => void): void {
    try {
      observe(request, decision, started, err)
    } catch (failure) {
      request.log.error({ err: failure }, 'fastify-default-deny: the observer failed on a refused request')
    }
    done(err as Error)
  }

  // An observer that throws fails the request (a 500), as a rejected hook
  // did; it must never leave the request without an answer.
  function allowed (request: FastifyRequest, decision: Decision, started: number, done: (err?: Error) => void): void {
    try {
      if (!decision.public) observe(request, decision, started, undefined)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  }

  /** Throws a refusal, or returns what is left to wait for (`undefined`: decided). */
  function enforce (request: FastifyRequest, reply: FastifyReply, decision: Decision | null): Promise<void> | undefined {
    const compiled = rules?.compiled ?? null
    if (compiled?.settings.lockout === true) {
      if (decision !== null) decision.reason = 'lockout'
      throw lockout(settings, reply)
    }
    if (decision === null) return undefined
    decision.reason = 'unannotated'
    const route = routeOf(request, decision)
    decision.reason = null
    const { requirement } = route
    if (requirement.kind === 'resource') {
      decision.resource = requirement.resource
      decision.privilege = requirement.privilege
    }

    if (requirement.kind !== 'public') {
      const reused = credentials.reused(request)
      if (reused !== undefined) return decide(request, reply, decision, route, compiled, reused)
      return credentials.required(request, reply).then((principal) => decide(request, reply, decision, route, compiled, principal))
    }
    if (compiled !== null) return credentials.optional(request).then((principal) => decide(request, reply, decision, route, compiled, principal))
    return decide(request, reply, decision, route, compiled, null)
  }

  /** Everything after the principal: the rules, then what the route requires. */
  function decide (request: FastifyRequest, reply: FastifyReply, decision: Decision, route: AnnotatedRoute, compiled: RulesLayer['compiled'] | null, principal: Principal | null): Promise<void> | undefined {
    const { requirement } = route
    if (requirement.kind !== 'public') {
      request.principal = principal
      decision.principal = principal
    }

    if (rulesStep !== null && compiled !== null) {
      rulesStep.begin(request, compiled, principal, requirement.kind === 'resource' ? requirement.privilege : null)
    }

    if (requirement.kind === 'public') {
      decision.public = true
      return undefined
    }
    const who = principal as Principal
    if (requirement.kind === 'authenticated') {
      if (decideRoute(who, requirement, null, policy) === 'allow') {
        decision.reason = 'authenticated'
        return undefined
      }
      decision.reason = 'unauthenticated'
      reply.header('www-authenticate', 'Bearer')
      throw new codes.FST_DEFAULT_DENY_UNAUTHORIZED()
    }
    // Before the grants: the answer then depends on the route and the token
    // only, so a token without its second factor learns nothing about what
    // it could do (nor, with hideForbidden, what exists), and costs no query.
    if (route.stepUp) stepUp?.enforce(request, reply, who)
    return checkGrant(request, route, requirement, who, decision)
  }

  return { onRequest, preValidation: rulesStep?.preValidation ?? null }
}
