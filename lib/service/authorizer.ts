// The one entry for every decision on grants: the route hook and
// `app.permissions` both ask here, with what they want to know (a request)
// and how to read it (options). A superuser needs no read; everyone else is
// answered by the reader stack (see reads.ts).
import { sql, type Expression, type SqlBool } from 'kysely'
import type { Principal } from '../../fastify-plugin.js'
import { checkPlan, type CheckPlan, type Policy } from '../decision/policy.js'
import { overrides } from '../decision/rule.js'
import { API_ROUTE, type Observer } from '../observability/index.js'
import type { CheckReader, IdPage, Known, ReadOptions } from '../store/check.js'

/** May `principal` exercise `privilege` on `resource` `id` (null: the type itself)? */
export interface AuthorizeRequest {
  readonly principal: Principal
  readonly resource: string
  readonly id: string | null
  readonly privilege: string
}

/** The same question for each of `ids`. */
export type AuthorizeManyRequest = Omit<AuthorizeRequest, 'id'> & { readonly ids: readonly string[] }

/** The same question for every id of the type. */
export type AuthorizeTypeRequest = Omit<AuthorizeRequest, 'id'>

export interface AuthorizerProps {
  readonly policy: Policy
  readonly reader: CheckReader
  /** Told of the decisions asked through `check` and `checkMany` (the route hook tells it of its own). */
  readonly observer?: Observer | null
}

export class Authorizer {
  readonly #policy: Policy
  readonly #reader: CheckReader
  readonly #plans: ReadonlyMap<string, CheckPlan>
  readonly #observer: Observer | null

  constructor ({ policy, reader, observer }: AuthorizerProps) {
    this.#policy = policy
    this.#reader = reader
    this.#observer = observer ?? null
    this.#plans = new Map([...policy.satisfiedBy.keys()].map((privilege) => [privilege, checkPlan(policy, privilege)]))
  }

  // Every known privilege was planned at startup; an unknown one accepts nothing.
  #query<R extends AuthorizeTypeRequest> (request: R): R & { plan: CheckPlan } {
    return { ...request, plan: this.#plans.get(request.privilege) ?? checkPlan(this.#policy, request.privilege) }
  }

  /** `#query` for one id, spelled out: a spread copy cost the cached route a measurable share. */
  #single (request: AuthorizeRequest): AuthorizeRequest & { plan: CheckPlan } {
    return {
      principal: request.principal,
      resource: request.resource,
      id: request.id,
      privilege: request.privilege,
      plan: this.#plans.get(request.privilege) ?? checkPlan(this.#policy, request.privilege)
    }
  }

  /** The answer when it needs no query (a superuser, a cache hit), synchronously; else `undefined`. */
  known (request: AuthorizeRequest, options: ReadOptions = {}): boolean | undefined {
    if (overrides(request.principal)) return true
    return this.#reader.hit(this.#single(request), options)
  }

  /** The query, once `known` has answered `undefined`. Not async: on a route's path each async layer costs a turn. */
  ask (request: AuthorizeRequest, options: ReadOptions = {}): Promise<boolean> {
    return this.#reader.check(this.#single(request), options)
  }

  async check (request: AuthorizeRequest, options: ReadOptions = {}): Promise<boolean> {
    const observer = this.#observer
    if (observer === null) return this.known(request, options) ?? await this.ask(request, options)
    const started = performance.now()
    const superuser = overrides(request.principal)
    let queried: number | null = null
    const note = observer.detailed ? { standby: null } : null
    const told = (allowed: boolean | null) => {
      observer.decision({
        route: API_ROUTE,
        resource: request.resource,
        privilege: request.privilege,
        outcome: allowed === null ? 'error' : allowed ? 'allow' : 'deny',
        reason: allowed === null ? 'unavailable' : !allowed ? 'no_grant' : superuser ? 'superuser' : 'grant',
        answeredBy: superuser ? 'none' : queried === null ? 'cache' : 'database',
        started,
        queried,
        revision: options.revision ?? null,
        note,
        principalId: request.principal.id,
        resourceId: request.id,
        request: null,
        count: 1
      })
    }
    try {
      let allowed = this.known(request, options)
      if (allowed === undefined) {
        queried = performance.now()
        allowed = await this.ask(request, note === null ? options : { ...options, note })
      }
      told(allowed)
      return allowed
    } catch (err) {
      told(null)
      throw err
    }
  }

  /** One answer per id, in order, from one query. */
  async checkMany (request: AuthorizeManyRequest, options: ReadOptions = {}): Promise<boolean[]> {
    if (overrides(request.principal)) return request.ids.map(() => true)
    const started = performance.now()
    const answers = await this.#reader.checkMany(this.#query(request), options)
    const allowed = answers.filter(Boolean).length
    const told = (outcome: 'allow' | 'deny', count: number) => {
      if (count === 0) return
      this.#observer?.decision({
        route: API_ROUTE,
        resource: request.resource,
        privilege: request.privilege,
        outcome,
        reason: outcome === 'allow' ? 'grant' : 'no_grant',
        answeredBy: 'database',
        started,
        queried: started,
        revision: options.revision ?? null,
        note: null,
        principalId: request.principal.id,
        resourceId: null,
        request: null,
        count
      })
    }
    told('allow', allowed)
    told('deny', answers.length - allowed)
    return answers
  }

  /** The check as a condition for a host's own query: true for the rows whose `id` the principal may use. */
  filter (request: AuthorizeTypeRequest, id: Expression<unknown>, known: Known | null = null): Expression<SqlBool> {
    if (overrides(request.principal)) return sql<SqlBool>`true`
    return this.#reader.filter(this.#query(request), id, known)
  }

  /** What `filter` needs to read a page after `after` from the grants (see `Known`); a superuser: every id. */
  async holdings (request: AuthorizeTypeRequest & { after: string }, options: ReadOptions = {}): Promise<Known> {
    if (overrides(request.principal)) return { all: true, groups: [] }
    return await this.#reader.holdings(this.#query(request), options)
  }

  /** A keyset page of the ids after `after`; `all` when every id of the type is allowed (a superuser: no ids). */
  async listIds (request: AuthorizeTypeRequest & { after: string, limit: number }, options: ReadOptions = {}): Promise<IdPage> {
    if (overrides(request.principal)) return { all: true, ids: [] }
    return await this.#reader.listIds(this.#query(request), options)
  }
}
