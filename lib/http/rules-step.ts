// The endpoint rules inside the enforcement hook: evaluated in onRequest, or
// in preValidation when a rule filters on body parameters (the body is parsed
// by then). Then the level the request acts at caps the route's privilege.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import { levelAllows } from '../decision/policy.js'
import { codes, deniedError } from '../errors.js'
import type { EnforcementOptions, LevelOptions } from '../options/index.js'
import { effectiveLevel, evaluateRules, requiresBody, type CompiledRules, type RulesOutcome } from '../rules/index.js'
import type { RulePath, RulesLayer } from '../rules/reloader.js'
import { ruleFacts } from './rule-facts.js'

/** Work left for preValidation when a rule filters on body parameters. */
interface Deferred {
  compiled: CompiledRules
  where: RulePath
  principal: Principal | null
  privilege: string | null
}

/** The request property holding deferred work; decorated with `null` so requests keep one shape. */
export const kDeferred = Symbol('fastify-default-deny.deferred')
type WithDeferred = FastifyRequest & { [kDeferred]: Deferred | null }

export type RulesStepSettings = Pick<EnforcementOptions, 'hideForbidden'> & LevelOptions

export interface RulesStep {
  /** Applies the rules now, or leaves them for preValidation when they need the body. */
  begin: (request: FastifyRequest, compiled: CompiledRules, principal: Principal | null, privilege: string | null) => void
  preValidation: (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void
}

export function createRulesStep (settings: RulesStepSettings, rules: RulesLayer, caseSensitive: boolean): RulesStep {
  function baseLevel (principal: Principal | null): string | null {
    const level = principal?.claims?.[settings.levelClaim]
    return typeof level === 'string' ? level : null
  }

  function refusal (compiled: CompiledRules, outcome: Extract<RulesOutcome, { allow: false }>): Error {
    // Diagnostics name the path key, group and rule type only: never a
    // token, certificate detail, address or parameter value.
    const suffix = compiled.settings.diagnostics
      ? outcome.reason === 'rule'
        ? `: path '${outcome.pathKey}', group '${outcome.group}', rule '${outcome.ruleType}'`
        : `: ${outcome.reason}`
      : ''
    return new codes.FST_DEFAULT_DENY_RULE_DENIED(suffix)
  }

  /** Endpoint rules, then the level cap; sets `request.accessLevel`. */
  function apply (request: FastifyRequest, work: Deferred, withBody: boolean): void {
    const { compiled, where, principal, privilege } = work
    const outcome = evaluateRules(compiled, ruleFacts(request, where, principal, baseLevel(principal), withBody))
    if (!outcome.allow) {
      const detail = outcome.reason === 'rule'
        ? { pathKey: outcome.pathKey, group: outcome.group, ruleType: outcome.ruleType }
        : { reason: outcome.reason }
      request.log.info(detail, 'fastify-default-deny: denied by endpoint rules')
      throw refusal(compiled, outcome)
    }
    const level = effectiveLevel(compiled, baseLevel(principal), outcome.elevate, outcome.demote)
    request.accessLevel = level
    // Levels only ever restrict: an elevated request still needs its grant.
    if (privilege === null || levelAllows(settings.levelPrivileges, level, privilege)) return
    request.log.info({ level, privilege }, 'fastify-default-deny: privilege above the request\'s level')
    throw deniedError(settings.hideForbidden)
  }

  return {
    begin (request, compiled, principal, privilege) {
      const where = rules.rulePath(request.raw.url ?? '', caseSensitive, compiled.hasReservedKey)
      const work: Deferred = { compiled, where, principal, privilege }
      if (requiresBody(compiled, where.path)) {
        (request as WithDeferred)[kDeferred] = work
      } else {
        apply(request, work, false)
      }
    },
    // Callback style: it runs on every request once rules are configured, and
    // most have nothing deferred.
    preValidation (request, _reply, done) {
      const work = (request as WithDeferred)[kDeferred]
      if (work === null) return done()
      try {
        apply(request, work, true)
      } catch (err) {
        return done(err as Error)
      }
      done()
    }
  }
}
