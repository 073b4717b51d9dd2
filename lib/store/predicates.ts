// The pieces of SQL the store's queries share: exact targets and grantees as
// stored, a principal's groups, binding text to values. What counts as
// allowed is not here: lib/store/rule-sql.ts generates it from the rule.
import { sql, type Expression, type ExpressionBuilder, type RawBuilder } from 'kysely'
import type { GranteeRef, ResourceRef } from '../../fastify-plugin.js'
import type { DefaultDenyDatabase, GrantRow } from './schema.js'

type TargetEb = ExpressionBuilder<DefaultDenyDatabase, 'default_deny_grant' | 'default_deny_audit'>

/** One array parameter, however many values: one parameter per value breaks past 65,535. */
export function anyOf (values: readonly string[]) {
  return sql<string>`any(${[...values]}::text[])`
}

/** Rows about exactly this target: one resource, or (id `null`) the type itself. */
export function onTarget (eb: TargetEb, target: ResourceRef) {
  return eb.and([
    eb('resource_type', '=', target.resource),
    target.id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', target.id)
  ])
}

/** Where the plugin's tables are, and how many levels of group nesting count. */
export interface GroupScope {
  readonly schema: string
  readonly groupDepth: number
}

/**
 * The stored groups a principal is in, with the level at which each counts
 * (explain's paths and the locks of a write; the check takes the same groups
 * as one array, see `groupsText`): the groups its user id is a member of are
 * level 1, and so are the token's own (which come as they are, not as rows),
 * then every group one of those is in, up to `groupDepth` levels. Read from
 * the closure, not walked: a walk kept a row for every level at which a group
 * is reached, and every path to it with `via`, so groups that are members of
 * each other multiplied its rows at each level. `user` and `groups` are SQL
 * for the user id (null: no user) and the token's groups. With `via`, each
 * row also names the group it was reached through at its shortest level (the
 * smallest id on a tie; null for the user's own groups), so explain can show
 * the path.
 */
export function reachText (scope: GroupScope, user: string, groups: string, via: boolean): string {
  const closure = `"${scope.schema}".default_deny_membership_closure`
  const table = `"${scope.schema}".default_deny_membership`
  const levels = `levels(id, level) as (
    select id, min(level) from (
      select group_id as id, distance as level from ${closure} where member_kind = 'user' and member_id = ${user} and distance <= ${scope.groupDepth}
      union all select group_id, distance + 1 from ${closure} where member_kind = 'group' and member_id = any(${groups}::text[]) and distance < ${scope.groupDepth}
      union all select unnest(${groups}::text[]) collate "C", 1
    ) found group by id)`
  if (!via) return `${levels}, reach(id) as (select id from levels)`
  return `${levels}, reach(id, level, via) as (
    select l.id, l.level, min(m.member_id) filter (where p.id is not null)
    from levels l
      left join ${table} m on m.group_id = l.id and m.member_kind = 'group'
      left join levels p on p.id = m.member_id and p.level = l.level - 1
    group by l.id, l.level)`
}

/**
 * Every group of a principal as one array (SQL), for `= any(...)`: the
 * token's groups, then what the membership closure (kept by triggers, see the
 * membership migration) says they and the user reach within `groupDepth`
 * levels. The user's own groups are level 1, and so are the token's, so what
 * a token's group reaches counts one level less far. Two index ranges, no
 * walk: the check pays little for stored groups, however deep.
 */
export function groupsText (scope: GroupScope, user: string, groups: string): string {
  if (scope.groupDepth === 0) return `${groups}::text[]`
  const closure = `"${scope.schema}".default_deny_membership_closure`
  return `(${groups}::text[] || array(
    select group_id from ${closure} where member_kind = 'user' and member_id = ${user} and distance <= ${scope.groupDepth}
    union all select group_id from ${closure} where member_kind = 'group' and member_id = any(${groups}::text[]) and distance < ${scope.groupDepth}))`
}

/** SQL text with `$n` placeholders as a Kysely fragment, each bound to `values[n - 1]`; `{id}` becomes `id`. */
export function bindText<T> (text: string, values: readonly unknown[], id?: Expression<unknown>): RawBuilder<T> {
  return sql.join(text.split(/(\$\d+|\{id\})/).map((part) => part === '{id}' && id !== undefined
    ? id
    : /^\$\d+$/.test(part) ? sql.val(values[Number(part.slice(1)) - 1]) : sql.raw(part)), sql.raw('')) as RawBuilder<T>
}

/** The grantee columns as stored: the anonymous principal has the id ''. */
export function granteeColumns (grantee: GranteeRef) {
  return grantee.kind === 'anonymous'
    ? { principal_kind: 'anonymous' as const, principal_id: '' }
    : { principal_kind: grantee.kind, principal_id: grantee.id }
}

/** Rows of exactly this grantee. */
export function ofGrantee (eb: TargetEb, grantee: GranteeRef) {
  const columns = granteeColumns(grantee)
  return eb.and([eb('principal_kind', '=', columns.principal_kind), eb('principal_id', '=', columns.principal_id)])
}

export function toGrantee (row: Pick<GrantRow, 'principal_kind' | 'principal_id'>): GranteeRef {
  return row.principal_kind === 'anonymous'
    ? { kind: 'anonymous' }
    : { kind: row.principal_kind, id: row.principal_id }
}

export const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort()
