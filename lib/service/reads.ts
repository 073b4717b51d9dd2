// Where each check reads from, and how fresh it must be: through the
// decision cache when it is on, from a hot standby when one is fresh enough,
// otherwise from the primary. A presented revision makes the answer reflect
// every change up to it: the cache first hears everything acknowledged
// before the request, and a standby must have replayed the revision.
import type { Kysely } from 'kysely'
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import type { CachedCheck } from '../cache/cached-check.js'
import type { CheckPlan } from '../decision/policy.js'
import type { Budget } from '../store/deadline.js'
import type { GrantReader } from '../store/reader.js'
import type { ReadRoute } from '../store/replicas.js'

export interface ReadPathProps {
  readonly reader: GrantReader
  /** The decision cache, when on. */
  readonly cached: CachedCheck | null
  /** The cache's barrier (see ChangeFeed.barrier). */
  readonly barrier: (() => Promise<bigint>) | null
  /** The standbys, when configured. */
  readonly route: ReadRoute | null
}

export class ReadPath {
  readonly #props: ReadPathProps

  constructor (props: ReadPathProps) {
    this.#props = Object.freeze({ ...props })
  }

  /** The cached answer, synchronously, when the cache is on and no revision is presented; else `undefined`. */
  hit (principal: Principal, target: ResourceRef, privilege: string, revision: bigint | null): boolean | undefined {
    const { cached } = this.#props
    if (cached === null || revision !== null) return undefined
    return cached.hit(cached.lookup(principal, target, privilege))
  }

  /** The route check, once `hit` has answered `undefined`. */
  check (principal: Principal, target: ResourceRef, privilege: string, plan: CheckPlan, revision: bigint | null, budget?: Budget): Promise<boolean> {
    const { cached, reader } = this.#props
    if (cached === null) return this.#onStandby(revision, budget, (db) => reader.check(principal, target, plan, budget, db))
    const lookup = cached.lookup(principal, target, privilege)
    if (revision === null) return cached.fill(lookup, principal, target, plan, budget)
    return this.#heard(revision).then((heard) => {
      if (!heard) return reader.check(principal, target, plan, budget)
      return cached.hit(lookup) ?? cached.fill(lookup, principal, target, plan, budget)
    })
  }

  async checkMany (principal: Principal, resource: string, ids: readonly string[], plan: CheckPlan, revision: bigint | null): Promise<boolean[]> {
    return await this.#onStandby(revision, undefined, async (db) => await this.#props.reader.checkMany(principal, resource, ids, plan, db))
  }

  async listIds (principal: Principal, resource: string, plan: CheckPlan, after: string, limit: number, revision: bigint | null): Promise<{ all: boolean, ids: string[] }> {
    return await this.#onStandby(revision, undefined, async (db) => await this.#props.reader.listIds(principal, resource, plan, after, limit, db))
  }

  // The cache is as fresh as `revision` once a barrier sent after the request
  // is answered at or past it. A revision from the future (no write handed it
  // out yet), or a feed that is down, sends the check past the cache.
  async #heard (revision: bigint): Promise<boolean> {
    try {
      return (await (this.#props.barrier as () => Promise<bigint>)()) >= revision
    } catch {
      return false
    }
  }

  // `read(undefined)` reads from the primary. A read that fails on a standby
  // is read again from the primary: it changes nothing, so it may be repeated.
  #onStandby<T> (revision: bigint | null, budget: Budget | undefined, read: (db: Kysely<any> | undefined) => Promise<T>): Promise<T> {
    const { route } = this.#props
    if (route === null) return read(undefined)
    const chosen = revision === null ? Promise.resolve(route.any()) : route.atLeast(revision, budget)
    return chosen.then((db) => {
      if (db === route.primary) return read(undefined)
      return read(db).catch((err: unknown) => {
        route.failed(db, err)
        budget?.assertLive()
        return read(undefined)
      })
    })
  }
}
