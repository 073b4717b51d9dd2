// The check's reader interface, and the reader that runs the statements
// lib/store/rule-sql.ts generates: the route check (one yes/no statement that
// probes the grant table's unique index once per way a grant can count and
// stops at the first hit), checkMany (one answer per id), filter (a condition
// for a host's own query) and listIds (keyset pages of ids). The decision
// cache, the standbys and a host transaction wrap this same interface.
import { CompiledQuery, sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely'
import type { Principal } from '../../fastify-plugin.js'
import type { CheckPlan } from '../decision/policy.js'
import type { Database, DirectRunner } from './database.js'
import type { Budget } from './deadline.js'
import { bindText } from './predicates.js'
import type { CheckFunctions } from './check-functions.js'
import type { RuleScope } from './rule-sql.js'
import { checkTexts, type CheckTexts } from './rule-statements.js'

export { PREPARED_MARKER } from './rule-sql.js'

/** What one check asks: may `principal` exercise `privilege` (looked for as `plan`) on `resource` `id` (null: the type). */
export interface CheckQuery {
  readonly principal: Principal
  readonly resource: string
  readonly id: string | null
  readonly privilege: string
  readonly plan: CheckPlan
}

/** The same question for each of `ids`, resources of one type. */
export type ManyQuery = Omit<CheckQuery, 'id'> & { readonly ids: readonly string[] }

/** The question for every id of a type at once: as a condition, or as keyset pages after `after`. */
export type TypeQuery = Omit<CheckQuery, 'id'>
export type ListQuery = TypeQuery & { readonly after: string, readonly limit: number }

/** How a read is made, never what it asks. */
export interface ReadOptions {
  /** A host transaction to read in: no cache, no standby. */
  readonly db?: Kysely<any>
  /** A revision the answer must reflect (see lib/revision.ts); null or absent: none. */
  readonly revision?: bigint | null
  /** A check that waited past it for a connection sends no query. */
  readonly budget?: Budget
  /** Where the answer was read from, noted for a trace when someone reads it (lib/observability/). */
  readonly note?: ReadNote
}

/** Filled in by the readers a check passes through. */
export interface ReadNote {
  /** The standby the check was read from; null: the primary (or none). */
  standby: string | null
}

export interface Until { allowed: boolean, ttl: number | null }
/** `groups`: every group of the principal, token's and stored, read with the page. */
export interface IdPage { all: boolean, ids: string[], groups?: string[] }

/**
 * What `listIds` read about the principal, for a filter to build on (see
 * `CheckReader.filter`); `after`: only the ids after it (a keyset page's bound).
 */
export interface Known {
  all: boolean
  groups: readonly string[]
  after?: string
  /** For each source of the merge, whether the principal holds anything through it ('1' or '0'; see `CheckTexts.holdings`); absent: read them all. */
  sources?: string
  /** With a hierarchy, the pairs below which it reaches resources (type, id, type, id, …; see `CheckTexts.holdings`); absent: not read. */
  above?: readonly string[]
}

/** One reader interface; the cached, standby and transaction readers wrap it. */
export interface CheckReader {
  /** The answer when it is known without a query (a cache hit), synchronously; else `undefined`. */
  hit: (query: CheckQuery, options: ReadOptions) => boolean | undefined
  /** Whether the principal holds what the plan looks for: the route check, one prepared yes/no statement. */
  check: (query: CheckQuery, options: ReadOptions) => Promise<boolean>
  /** `check`, and how many milliseconds its answer holds (`null`: no scheduled change bounds it): what the decision cache stores. */
  checkUntil: (query: CheckQuery, options: ReadOptions) => Promise<Until>
  /** `check` for each id, in one round trip: one answer per id, in order. */
  checkMany: (query: ManyQuery, options: ReadOptions) => Promise<boolean[]>
  /** A keyset page of the ids the principal may use; `all` when a type-level grant allows every id. */
  listIds: (query: ListQuery, options: ReadOptions) => Promise<IdPage>
  /** What `filter` needs to know to read a page after `query.after` from the grants (see `Known`), in one prepared statement. */
  holdings: (query: TypeQuery & { readonly after: string }, options: ReadOptions) => Promise<Known>
  /**
   * `check` as a condition on a host query's rows, `id` being their resource
   * id. No I/O. `known`, when the caller has just read it (a page of
   * `listIds`): whether a wide grant allows every id, and the principal's
   * groups; without a wide grant, the condition is one PostgreSQL can drive
   * from the principal's grants.
   */
  filter: (query: TypeQuery, id: Expression<unknown>, known?: Known | null) => Expression<SqlBool>
}

type Rows = ReadonlyArray<Record<string, unknown>>

const nothing = (plan: CheckPlan) => plan.accepted.length === 0 && !plan.ownerCounts

/** The reader over one database's tables: the primary's, or a standby's with its own runner. */
export class CheckStatement implements CheckReader {
  readonly #db: Kysely<any>
  readonly #direct: DirectRunner | null
  readonly #texts: CheckTexts
  readonly #many: string
  readonly #heldTexts = new Map<string, string>()
  readonly #hierarchy: boolean
  // `$8`, the edges a path may not cross, is bound only where the statements have it.
  readonly #values: (query: TypeQuery, id: string | null | string[]) => unknown[]

  /** With `functions`, the route check calls them instead of sending its statements (see lib/store/check-functions.ts). */
  constructor (database: Database, scope: RuleScope, functions: CheckFunctions | null = null) {
    this.#db = database.db
    this.#direct = database.direct
    const texts = checkTexts(scope)
    this.#texts = functions === null ? texts : Object.freeze({ ...texts, one: functions.one, oneUntil: functions.oneUntil })
    this.#many = database.embedded ? texts.manyEmbedded : texts.many
    this.#hierarchy = scope.hierarchy != null
    this.#values = scope.hierarchy == null ? values : (query, id) => [...values(query, id), query.plan.blocked]
  }

  hit (): undefined {
    return undefined
  }

  filter (query: TypeQuery, id: Expression<unknown>, known: Known | null = null): RawBuilder<SqlBool> {
    if (nothing(query.plan)) return sql<SqlBool>`false`
    if (known === null) return bindText<SqlBool>(this.#texts.filter, this.#values(query, null), id)
    if (known.all) return sql<SqlBool>`true`
    const after = known.after !== undefined && known.after !== ''
    const values = this.#values(query, after ? known.after as string : null)
    values[4] = [...known.groups]
    const above = this.#hierarchy && known.above !== undefined ? known.above.length / 2 : undefined
    if (above !== undefined) values[7] = [...known.above as readonly string[]]
    const text = this.#held(known.groups.length, after, known.sources, above)
    return text === 'false' ? sql<SqlBool>`false` : bindText<SqlBool>(text, values, id)
  }

  // The text for each number of groups, bound or not, and sources held through, built once (the common ones).
  #held (groups: number, after: boolean, sources?: string, above?: number): string {
    const key = `${groups}${after ? '>' : ''}${sources ?? ''}/${above ?? ''}`
    let text = this.#heldTexts.get(key)
    if (text === undefined) {
      text = this.#texts.held(groups, after, sources, above)
      if (this.#heldTexts.size < 256) this.#heldTexts.set(key, text)
    }
    return text
  }

  // Not async: the route check is on every request's path, and each async layer costs a promise and a turn.
  check (query: CheckQuery, options: ReadOptions): Promise<boolean> {
    if (nothing(query.plan)) return Promise.resolve(false)
    return this.#execute(this.#texts.one, this.#values(query, query.id), options)
      .then((rows) => rows[0]?.allowed === true)
  }

  checkUntil (query: CheckQuery, options: ReadOptions): Promise<Until> {
    if (nothing(query.plan)) return Promise.resolve({ allowed: false, ttl: null })
    return this.#execute(this.#texts.oneUntil, this.#values(query, query.id), options)
      .then((rows) => {
        const ttl = rows[0]?.ttl
        return { allowed: rows[0]?.allowed === true, ttl: ttl === null || ttl === undefined ? null : Number(ttl) }
      })
  }

  async checkMany (query: ManyQuery, options: ReadOptions): Promise<boolean[]> {
    const { ids } = query
    if (ids.length === 0) return []
    if (nothing(query.plan)) return ids.map(() => false)
    const rows = await this.#execute(this.#many, this.#values(query, [...ids]), options)
    const flags = String(rows[0]?.allowed ?? '')
    return ids.map((_, i) => flags[i] === '1')
  }

  async listIds (query: ListQuery, options: ReadOptions): Promise<IdPage> {
    if (nothing(query.plan)) return { all: false, ids: [] }
    const rows = await this.#execute(this.#texts.list, withLimit(this.#values(query, query.after), query.limit), options)
    const row = rows[0] as { everything: boolean, ids: string[], groups: string[] }
    return { all: row.everything === true, ids: row.ids, groups: row.groups }
  }

  async holdings (query: TypeQuery & { readonly after: string }, options: ReadOptions): Promise<Known> {
    if (nothing(query.plan)) return { all: false, groups: [], sources: '' }
    const rows = await this.#execute(this.#texts.holdings, this.#values(query, query.after), options)
    const row = rows[0] as { everything: boolean, groups: string[], sources: string, above: string[] }
    return { all: row.everything === true, groups: row.groups, sources: row.sources, above: row.above }
  }

  // Not async on the direct path. A host transaction has no runner of its
  // own: its statements go through Kysely.
  #execute (text: string, values: unknown[], { db, budget }: ReadOptions): Promise<Rows> {
    if (db === undefined && this.#direct !== null) return this.#direct(text, values, budget)
    return this.#viaKysely(CompiledQuery.raw(text, values), budget, db)
  }

  async #viaKysely (query: CompiledQuery, budget?: Budget, db?: Kysely<any>): Promise<Rows> {
    if (budget === undefined || db !== undefined) return (await (db ?? this.#db).executeQuery<Record<string, unknown>>(query)).rows
    return await this.#db.connection().execute(async (conn) => {
      budget.assertLive()
      return (await conn.executeQuery<Record<string, unknown>>(query)).rows
    })
  }
}

// `$7` sits before `$8`.
function withLimit (bound: unknown[], limit: number): unknown[] {
  return [...bound.slice(0, 6), limit, ...bound.slice(6)]
}

function values (query: TypeQuery, id: string | null | string[]): unknown[] {
  const { principal, plan } = query
  return [query.resource, id, plan.accepted, principal.kind === 'user' ? principal.id : null, principal.groups, plan.ownerCounts]
}
