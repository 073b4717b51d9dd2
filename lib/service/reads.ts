// Where each check reads from, and how fresh it must be, as readers wrapping
// the one reader interface: in a host transaction, the SQL reader on it;
// otherwise through the decision cache when it is on, from a hot standby when
// one is fresh enough, else from the primary. A presented revision makes the
// answer reflect every change up to it: the cache first hears everything
// acknowledged before the request, and a standby must have replayed it.
import type { Expression, SqlBool } from 'kysely'
import { CachedReader, type CachedCheck } from '../cache/cached-check.js'
import { CheckStatement, type CheckQuery, type CheckReader, type IdPage, type Known, type ListQuery, type ManyQuery, type ReadOptions, type TypeQuery, type Until } from '../store/check.js'
import type { RuleScope } from '../store/rule-sql.js'
import { StandbyReader, type ReadRoute } from '../store/replicas.js'

export interface ReadStackProps {
  /** The reader on the primary. */
  readonly reader: CheckReader
  /** The decision cache, when on, and its barrier (see ChangeFeed.barrier). */
  readonly cached: CachedCheck | null
  readonly barrier: (() => Promise<bigint>) | null
  /** The standbys, when configured, and where the plugin's tables are on them. */
  readonly route: ReadRoute | null
  readonly scope: RuleScope
}

/** A read in a host transaction goes to `base`, on that transaction; every other read to `routed`. */
class TransactionReader implements CheckReader {
  readonly #base: CheckReader
  readonly #routed: CheckReader

  constructor (base: CheckReader, routed: CheckReader) {
    this.#base = base
    this.#routed = routed
  }

  #of (options: ReadOptions): CheckReader {
    return options.db === undefined ? this.#routed : this.#base
  }

  hit (query: CheckQuery, options: ReadOptions): boolean | undefined {
    return options.db === undefined ? this.#routed.hit(query, options) : undefined
  }

  check (query: CheckQuery, options: ReadOptions): Promise<boolean> {
    return this.#of(options).check(query, options)
  }

  checkUntil (query: CheckQuery, options: ReadOptions): Promise<Until> {
    return this.#of(options).checkUntil(query, options)
  }

  async checkMany (query: ManyQuery, options: ReadOptions): Promise<boolean[]> {
    return await this.#of(options).checkMany(query, options)
  }

  async listIds (query: ListQuery, options: ReadOptions): Promise<IdPage> {
    return await this.#of(options).listIds(query, options)
  }

  async holdings (query: TypeQuery & { readonly after: string }, options: ReadOptions): Promise<Known> {
    return await this.#of(options).holdings(query, options)
  }

  filter (query: TypeQuery, id: Expression<unknown>, known: Known | null = null): Expression<SqlBool> {
    return this.#base.filter(query, id, known)
  }
}

/** The readers around the primary's, outermost first: transaction, cache, standbys. */
export function readStack ({ reader, cached, barrier, route, scope }: ReadStackProps): CheckReader {
  let routed = reader
  if (route !== null) routed = new StandbyReader(route, reader, (database) => new CheckStatement(database, scope))
  if (cached !== null && barrier !== null) routed = new CachedReader(cached, barrier, routed)
  return new TransactionReader(reader, routed)
}
