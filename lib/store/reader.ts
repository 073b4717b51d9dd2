// The read side of the grants: what a check, explain and the grant listing
// need. The check's part is the one reader interface (lib/store/check.ts)
// that the decision cache, the standbys and a host transaction wrap.
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely'
import type { Grant, Principal, ResourceRef } from '../../fastify-plugin.js'
import type { Facts } from '../decision/rule.js'
import type { AncestorPath, Source } from '../decision/explain.js'
import { CheckStatement, type CheckQuery, type CheckReader, type IdPage, type Known, type ListQuery, type ManyQuery, type ReadOptions, type TypeQuery, type Until } from './check.js'
import { browseResources, type BrowsedResource, type BrowseQuery } from './browse.js'
import { ofGrantee, onTarget, toGrantee } from './predicates.js'
import { effective, inherited } from './rule-conditions.js'
import type { GrantRow } from './schema.js'
import { scoped, type Db, type StoreProps } from './scope.js'

type Instance = ResourceRef & { id: string }

/** Which grants `scan` reads: all of them, one grantee's (held directly), one resource type's, or both. */
export interface GrantScan {
  grantee?: Grant['grantee']
  resource?: string
}

const GRANT_COLUMNS = ['principal_kind', 'principal_id', 'resource_type', 'resource_id', 'privilege', 'granted_by', 'granted_at', 'expires_at', 'starts_at'] as const

function toGrant (row: Pick<GrantRow, typeof GRANT_COLUMNS[number]>): Grant {
  return {
    resource: row.resource_type,
    id: row.resource_id,
    grantee: toGrantee(row),
    privilege: row.privilege as Grant['privilege'],
    grantedBy: row.granted_by,
    grantedAt: new Date(row.granted_at),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    startsAt: row.starts_at === null ? null : new Date(row.starts_at)
  }
}

/** The recorded owner of one resource, or null. */
export async function ownerOf (db: Db, target: Instance): Promise<string | null> {
  const row = await db.selectFrom('default_deny_resource')
    .select('owner_id')
    .where('resource_type', '=', target.resource)
    .where('resource_id', '=', target.id)
    .executeTakeFirst()
  return row?.owner_id ?? null
}

export interface GrantReader extends CheckReader {
  /**
   * The privileges `principal` holds on the target, and its owner, in one
   * round trip: the full facts explain and the grant API decide on. In `db`
   * when given; with a budget, a read that waited past it for a connection
   * sends no query at all.
   */
  facts: (principal: Principal, target: ResourceRef, options?: ReadOptions) => Promise<Facts>
  /** Every grant on the target that counts for `principal`, with where it comes from. */
  sources: (principal: Principal, target: ResourceRef, db?: Kysely<any>) => Promise<Source[]>
  /** The target's ancestors `principal` owns, with their paths. */
  ownedAbove: (principal: Principal, target: Instance, db?: Kysely<any>) => Promise<AncestorPath[]>
  getOwner: (target: Instance, db?: Kysely<any>) => Promise<string | null>
  /** The grants stored on exactly this target (a type-level target lists the type's own). */
  listGrants: (target: ResourceRef, db?: Kysely<any>) => Promise<Grant[]>
  /**
   * A page of the stored grants matching `filter`, in the order they were
   * stored; `next` (the last row's key, null after the last page) is the
   * `after` of the following page.
   */
  scan: (filter: GrantScan, after: string | null, limit: number, db?: Kysely<any>) => Promise<{ grants: Grant[], next: string | null }>
  /** A keyset page of the known resources of one type that `query.visible` admits (see browse.ts). */
  browse: (query: BrowseQuery, db?: Kysely<any>) => Promise<{ resources: BrowsedResource[], next: string | null }>
}

/**
 * The reader over the plugin's tables.
 *
 * @example
 * const reader = new SqlGrantReader({ db, database: databaseOf(db), schema: 'public', groupDepth: 8 })
 * const facts = await reader.facts(principal, { resource: 'document', id: '42' })
 */
export class SqlGrantReader implements GrantReader {
  readonly #props: StoreProps
  readonly #check: CheckStatement

  constructor (props: StoreProps) {
    this.#props = Object.freeze({ ...props })
    this.#check = new CheckStatement(props.database, this.#props, props.checkFunctions ?? null)
  }

  hit (): undefined {
    return undefined
  }

  // Not async: the check is on every request's path, and each async layer costs a promise and a turn.
  check (query: CheckQuery, options: ReadOptions): Promise<boolean> {
    return this.#check.check(query, options)
  }

  checkUntil (query: CheckQuery, options: ReadOptions): Promise<Until> {
    return this.#check.checkUntil(query, options)
  }

  filter (query: TypeQuery, id: Expression<unknown>, known: Known | null = null): Expression<SqlBool> {
    return this.#check.filter(query, id, known)
  }

  async listIds (query: ListQuery, options: ReadOptions): Promise<IdPage> {
    return await this.#check.listIds(query, options)
  }

  async holdings (query: TypeQuery & { readonly after: string }, options: ReadOptions): Promise<Known> {
    return await this.#check.holdings(query, options)
  }

  async checkMany (query: ManyQuery, options: ReadOptions): Promise<boolean[]> {
    return await this.#check.checkMany(query, options)
  }

  async facts (principal: Principal, target: ResourceRef, { db, budget }: ReadOptions = {}): Promise<Facts> {
    if (budget !== undefined && db === undefined) {
      return await this.#props.db.connection().execute(async (conn) => {
        budget.assertLive()
        return await this.facts(principal, target, { db: conn })
      })
    }
    const row = await scoped(this.#props, db).selectNoFrom((eb) => [
      target.id === null
        ? sql<string | null>`null::text`.as('owner')
        : eb.selectFrom('default_deny_resource')
          .select('owner_id')
          .where('resource_type', '=', target.resource)
          .where('resource_id', '=', target.id)
          .as('owner'),
      sql<string[]>`array(${eb.selectFrom('default_deny_grant')
        .select('privilege')
        .distinct()
        .where(effective(principal, target, this.#props))})`.as('privileges'),
      this.#props.hierarchy == null || target.id === null
        ? sql<null>`null`.as('inherited')
        : sql<Array<[string | null, string[]]>>`array(select json_build_array(privilege, edges) from (${inherited(principal, target as Instance, this.#props)[0]}) i)`.as('inherited')
    ]).executeTakeFirstOrThrow()
    const facts: Facts = { owner: row.owner ?? null, privileges: row.privileges }
    if (row.inherited === null) return facts
    const rows = (row.inherited as unknown[]).map((item) => (typeof item === 'string' ? JSON.parse(item) : item) as [string | null, string[]])
    return { ...facts, inherited: rows.map(([privilege, edges]) => ({ privilege, edges })) }
  }

  async sources (principal: Principal, target: ResourceRef, db?: Kysely<any>): Promise<Source[]> {
    const above = this.#props.hierarchy == null || target.id === null ? [] : await this.#above(target as Instance, db)
    const rows = await scoped(this.#props, db).selectFrom('default_deny_grant')
      .select(['privilege', 'principal_kind', 'principal_id', 'resource_type', 'resource_id', 'expires_at'])
      .where(effective(principal, target, this.#props, above.length > 0))
      .orderBy('privilege').orderBy('principal_kind').orderBy('principal_id')
      .execute()
    const sources = rows.map((row): Source => {
      const ancestor = row.resource_id === null || (row.resource_type === target.resource && row.resource_id === target.id)
        ? undefined
        : above.find((a) => a.resource === row.resource_type && a.id === row.resource_id)
      return {
        privilege: row.privilege,
        grantee: toGrantee(row),
        typeLevel: row.resource_id === null,
        expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
        ...(ancestor === undefined ? {} : { ancestor })
      }
    })
    // Nearest ancestor first, after the resource's own grants.
    return sources.sort((a, b) => (a.ancestor?.depth ?? 0) - (b.ancestor?.depth ?? 0))
  }

  /** The ancestors the target owner principal owns, as explain names them; see `sources`. */
  async ownedAbove (principal: Principal, target: Instance, db?: Kysely<any>): Promise<AncestorPath[]> {
    if (this.#props.hierarchy == null || principal.kind !== 'user') return []
    const above = await this.#above(target, db)
    const owned = await scoped(this.#props, db).selectFrom('default_deny_resource').select(['resource_type', 'resource_id'])
      .where('owner_id', '=', principal.id)
      .where(sql<SqlBool>`(resource_type, resource_id) in (select ancestor_type, ancestor_id from ${sql.id(this.#props.schema, 'default_deny_resource_ancestor')}
        where descendant_type = ${target.resource} and descendant_id = ${target.id})`)
      .execute()
    return above.filter((a) => owned.some((o) => o.resource_type === a.resource && o.resource_id === a.id))
  }

  // Every ancestor with its path: the resources in between (nearest first) and the edges.
  async #above (target: Instance, db?: Kysely<any>): Promise<AncestorPath[]> {
    const rows = await scoped(this.#props, db).selectFrom('default_deny_resource_ancestor')
      .select(['ancestor_type', 'ancestor_id', 'depth', 'edges'])
      .where('descendant_type', '=', target.resource).where('descendant_id', '=', target.id)
      .orderBy('depth')
      .execute()
    const refs = rows.map((row) => ({ resource: row.ancestor_type, id: row.ancestor_id }))
    return rows.map((row, i) => ({ ...(refs[i] as Instance), depth: row.depth, edges: row.edges, through: refs.slice(0, i) }))
  }

  async getOwner (target: Instance, db?: Kysely<any>): Promise<string | null> {
    return await ownerOf(scoped(this.#props, db), target)
  }

  async listGrants (target: ResourceRef, db?: Kysely<any>): Promise<Grant[]> {
    const rows = await scoped(this.#props, db).selectFrom('default_deny_grant')
      .select(GRANT_COLUMNS)
      .where((eb) => onTarget(eb, target))
      .orderBy('principal_kind').orderBy('principal_id').orderBy('privilege')
      .execute()
    return rows.map(toGrant)
  }

  async browse (query: BrowseQuery, db?: Kysely<any>): Promise<{ resources: BrowsedResource[], next: string | null }> {
    return await browseResources(this.#props, query, db)
  }

  // Keyed by the row's identity (the primary key), so a page costs one index
  // range however far in it starts, and rows written meanwhile never shift it.
  async scan (filter: GrantScan, after: string | null, limit: number, db?: Kysely<any>): Promise<{ grants: Grant[], next: string | null }> {
    let query = scoped(this.#props, db).selectFrom('default_deny_grant').select(['id', ...GRANT_COLUMNS])
    if (filter.grantee !== undefined) query = query.where((eb) => ofGrantee(eb, filter.grantee as Grant['grantee']))
    if (filter.resource !== undefined) query = query.where('resource_type', '=', filter.resource)
    if (after !== null) query = query.where('id', '>', after)
    const rows = await query.orderBy('id').limit(limit).execute()
    const last = rows.length === limit ? rows[rows.length - 1] : undefined
    return { grants: rows.map(toGrant), next: last === undefined ? null : String(last.id) }
  }
}
