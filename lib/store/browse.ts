// Browsing the resources of one type: every id the plugin's tables know of
// (an owner or parent row, or a grant on it), a keyset page at a time, with
// each one's owner and live grant count. Who sees which ids is not decided
// here: the caller passes the condition, built from the rule (see
// GrantQueries.browse), so there is no second copy of "allowed" in SQL.
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely'
import { anyOf } from './predicates.js'
import { expired } from './rule-conditions.js'
import { scoped, type StoreProps } from './scope.js'

export interface BrowsedResource {
  id: string
  owner: string | null
  /** Live explicit grants on the resource (scheduled ones included, expired ones not). */
  grants: number
}

export interface BrowseQuery {
  resource: string
  /** Only ids that start with it, compared byte-wise ('' for all). */
  prefix: string
  /** The last id of the previous page, or null for the first. */
  after: string | null
  limit: number
  /** Only these ids (absent: every known one). */
  ids?: readonly string[]
  /** Which ids the caller may see, given the id and owner columns' SQL; null: every one. */
  visible: ((id: Expression<unknown>, owner: Expression<unknown>) => Expression<SqlBool>) | null
}

/**
 * A LIKE pattern that matches values starting with `prefix` and nothing else:
 * `%`, `_` and the escape character itself are matched as themselves.
 */
export function prefixPattern (prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

export async function browseResources (props: StoreProps, query: BrowseQuery, db?: Kysely<any>): Promise<{ resources: BrowsedResource[], next: string | null }> {
  const { resource, prefix, after, limit } = query
  const pattern = prefixPattern(prefix)
  const known = (column: string) => sql`${sql.ref(column)} like ${pattern} escape '\\'`
  const rows = await scoped(props, db)
    .with('known', (qb) => qb.selectFrom('default_deny_resource').select('resource_id as id')
      .where('resource_type', '=', resource).where(known('resource_id') as Expression<SqlBool>)
      .union((qb2) => qb2.selectFrom('default_deny_grant').select(sql<string>`resource_id`.as('id'))
        .where('resource_type', '=', resource).where('resource_id', 'is not', null).where(known('resource_id') as Expression<SqlBool>)))
    .selectFrom('known as k')
    .leftJoin('default_deny_resource as r', (join) => join.on('r.resource_type', '=', resource).onRef('r.resource_id', '=', 'k.id'))
    .select((eb) => [
      'k.id as id',
      'r.owner_id as owner',
      eb.selectFrom('default_deny_grant as g').select(sql<string>`count(*)`.as('n'))
        .where('g.resource_type', '=', resource).whereRef('g.resource_id', '=', 'k.id')
        .where(sql<SqlBool>`not coalesce(${expired()}, false)`).as('grants')
    ])
    .where((eb) => after === null ? eb.lit(true) : eb('k.id', '>', after))
    .where((eb) => query.ids === undefined ? eb.lit(true) : eb('k.id', '=', anyOf(query.ids)))
    .where(query.visible === null ? sql<SqlBool>`true` : query.visible(sql.ref('k.id'), sql.ref('r.owner_id')))
    .orderBy('k.id')
    .limit(limit)
    .execute()
  const resources = rows.map((row) => ({ id: row.id as string, owner: (row.owner as string | null) ?? null, grants: Number(row.grants) }))
  const last = resources.length === limit ? resources[resources.length - 1] : undefined
  return { resources, next: last === undefined ? null : last.id }
}

/**
 * The resources a manager may see: those `userId` owns, or on which
 * `manage` (as the rule's filter for it says) is allowed. The two halves of
 * lib/decision/manage.ts `mayManage`, as a condition.
 */
export function managedBy (userId: string, manages: (id: Expression<unknown>) => Expression<SqlBool>): NonNullable<BrowseQuery['visible']> {
  return (id, owner) => sql<SqlBool>`(${owner} = ${userId} or ${manages(id)})`
}
