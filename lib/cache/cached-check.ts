// The route check through the decision cache: a hit answers synchronously; a
// miss runs the check with how long its answer holds, and stores it against
// the ticket taken before the query was sent.
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import type { CheckPlan } from '../decision/policy.js'
import type { Budget } from '../store/deadline.js'
import type { GrantReader } from '../store/reader.js'
import { lookupOf, type DecisionCache, type Lookup } from './decision-cache.js'

export class CachedCheck {
  readonly cache: DecisionCache
  readonly #reader: GrantReader

  constructor (cache: DecisionCache, reader: GrantReader) {
    this.cache = cache
    this.#reader = reader
  }

  /** What the answer depends on. Never for a superuser, who needs no check. */
  lookup (principal: Principal, target: ResourceRef, privilege: string): Lookup {
    return lookupOf(principal, target.resource, target.id, privilege)
  }

  /** The stored answer, synchronously, or `undefined`. */
  hit (lookup: Lookup): boolean | undefined {
    return this.cache.get(lookup)
  }

  /** Asks the database, and keeps the answer unless a change touched it meanwhile. */
  fill (lookup: Lookup, principal: Principal, target: ResourceRef, plan: CheckPlan, budget?: Budget): Promise<boolean> {
    const ticket = this.cache.begin(lookup)
    // Off (no change feed): the plain check, nothing kept.
    if (ticket === null) return this.#reader.check(principal, target, plan, budget)
    const started = performance.now()
    return this.#reader.checkUntil(principal, target, plan, budget).then(({ allowed, ttl }) => {
      this.cache.store(lookup, ticket, allowed, started, ttl)
      return allowed
    })
  }
}
