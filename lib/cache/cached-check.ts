// The route check through the decision cache: a hit answers synchronously; a
// miss runs the check with how long its answer holds, and stores it against
// the ticket taken before the query was sent. `CachedReader` is that cache as
// a reader wrapping the one reader interface.
import type { Expression, SqlBool } from 'kysely'
import type { CheckQuery, CheckReader, IdPage, Known, ListQuery, ManyQuery, ReadOptions, TypeQuery, Until } from '../store/check.js'
import type { Budget } from '../store/deadline.js'
import { lookupOf, type DecisionCache, type Lookup } from './decision-cache.js'

export class CachedCheck {
  readonly cache: DecisionCache
  readonly #reader: CheckReader

  /** `reader` reads the primary: the database whose changes the cache hears. */
  constructor (cache: DecisionCache, reader: CheckReader) {
    this.cache = cache
    this.#reader = reader
  }

  /** What the answer depends on. Never for a superuser, who needs no check. */
  lookup (query: CheckQuery): Lookup {
    return lookupOf(query.principal, query.resource, query.id, query.privilege)
  }

  /** The stored answer, synchronously, or `undefined`. */
  hit (lookup: Lookup): boolean | undefined {
    return this.cache.get(lookup)
  }

  /** Asks the database, and keeps the answer unless a change touched it meanwhile. */
  fill (lookup: Lookup, query: CheckQuery, budget?: Budget): Promise<boolean> {
    const ticket = this.cache.begin(lookup)
    // Off (no change feed): the plain check, nothing kept.
    if (ticket === null) return this.uncached(query, budget)
    const started = performance.now()
    return this.#reader.checkUntil(query, { budget }).then(({ allowed, ttl }) => {
      this.cache.store(lookup, ticket, allowed, started, ttl)
      return allowed
    })
  }

  /** The check on the primary, past the cache. */
  uncached (query: CheckQuery, budget?: Budget): Promise<boolean> {
    return this.#reader.check(query, { budget })
  }
}

/**
 * The decision cache around a reader. Single checks are answered by the
 * cache and its misses read from the primary, whose changes it hears; the
 * rest (many ids, lists, filters) pass to `inner`. A presented revision is
 * answered from the cache only once the cache has heard everything up to it:
 * a barrier sent after the request is answered at or past it. A revision from
 * the future (no write handed it out yet), or a feed that is down, sends the
 * check past the cache.
 */
export class CachedReader implements CheckReader {
  readonly #cached: CachedCheck
  readonly #barrier: () => Promise<bigint>
  readonly #inner: CheckReader

  constructor (cached: CachedCheck, barrier: () => Promise<bigint>, inner: CheckReader) {
    this.#cached = cached
    this.#barrier = barrier
    this.#inner = inner
  }

  hit (query: CheckQuery, { revision }: ReadOptions): boolean | undefined {
    if (revision !== undefined && revision !== null) return undefined
    const cached = this.#cached
    return cached.hit(cached.lookup(query))
  }

  check (query: CheckQuery, { revision, budget }: ReadOptions): Promise<boolean> {
    const cached = this.#cached
    const lookup = cached.lookup(query)
    if (revision === undefined || revision === null) return cached.fill(lookup, query, budget)
    return this.#heard(revision).then((heard) => {
      if (!heard) return cached.uncached(query, budget)
      return cached.hit(lookup) ?? cached.fill(lookup, query, budget)
    })
  }

  checkUntil (query: CheckQuery, options: ReadOptions): Promise<Until> {
    return this.#inner.checkUntil(query, options)
  }

  async checkMany (query: ManyQuery, options: ReadOptions): Promise<boolean[]> {
    return await this.#inner.checkMany(query, options)
  }

  async listIds (query: ListQuery, options: ReadOptions): Promise<IdPage> {
    return await this.#inner.listIds(query, options)
  }

  async holdings (query: TypeQuery & { readonly after: string }, options: ReadOptions): Promise<Known> {
    return await this.#inner.holdings(query, options)
  }

  filter (query: TypeQuery, id: Expression<unknown>, known: Known | null = null): Expression<SqlBool> {
    return this.#inner.filter(query, id, known)
  }

  async #heard (revision: bigint): Promise<boolean> {
    try {
      return (await this.#barrier()) >= revision
    } catch {
      return false
    }
  }
}
