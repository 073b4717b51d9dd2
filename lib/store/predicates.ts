// Who holds what, on which resource, until when: the conditions every grant
// query is built from. The check, explain, the locked reads of a write and
// (to come) the list filter all use these, so they cannot disagree.
import { sql, type Expression, type ExpressionBuilder, type RawBuilder } from 'kysely'
import type { GranteeRef, Principal, ResourceRef } from '../../fastify-plugin.js'
import type { DefaultDenyDatabase, GrantRow } from './schema.js'

type GrantEb = ExpressionBuilder<DefaultDenyDatabase, 'default_deny_grant'>
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

/** Grants that count on the target: its own and, for one resource, its type's. */
export function countsOn (eb: GrantEb, target: ResourceRef) {
  const type = eb('resource_type', '=', target.resource)
  return target.id === null
    ? eb.and([type, eb('resource_id', 'is', null)])
    : eb.and([type, eb.or([eb('resource_id', '=', target.id), eb('resource_id', 'is', null)])])
}

/** Where the plugin's tables are, and how many levels of group nesting count. */
export interface GroupScope {
  readonly schema: string
  readonly groupDepth: number
}

/**
 * The stored groups a principal is in, walked level by level over the
 * memberships themselves (explain's paths and the locks of a write; the
 * check reads the closure instead, see `groupsText`): the
 * groups its user id is a member of (level 1; the token's groups are level 1
 * too, but come as they are), the groups the token's groups are members of
 * (level 2), then every group one of those is a member of, up to
 * `groupDepth` levels. The bound ends a cycle as well; UNION keeps each row
 * once. Each step probes the primary key once per group found (`offset 0`
 * keeps the lateral probe: planned generically, a join would read every
 * group's memberships at each level). No `unnest` of the token's groups: its
 * generic row estimate made PostgreSQL plan the prepared check anew on every
 * call. `user` and `groups` are SQL for the user id (null: no user) and the
 * token's groups. With `via`, each row also says which member it was reached
 * through (null for the user's own groups), so explain can show the path.
 */
export function reachText (scope: GroupScope, user: string, groups: string, via: boolean): string {
  const table = `"${scope.schema}".default_deny_membership`
  const [own, token, next] = via ? [', null::text collate "C"', ', member_id', ', r.id'] : ['', '', '']
  const fromToken = scope.groupDepth < 2
    ? ''
    : `\n    union select group_id, 2${token} from ${table} where member_kind = 'group' and member_id = any(${groups}::text[])`
  return `reach(id, level${via ? ', via' : ''}) as (
    select group_id, 1${own} from ${table} where member_kind = 'user' and member_id = ${user}${fromToken}
    union select m.group_id, r.level + 1${next} from reach r
      cross join lateral (select group_id from ${table} where member_kind = 'group' and member_id = r.id offset 0) m
      where r.level < ${scope.groupDepth})`
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

/** Grants that count for `principal`: its own, its groups' (token and stored, nested), and everyone's. */
export function heldBy (eb: GrantEb, principal: Principal, scope: GroupScope) {
  const alternatives = [eb('principal_kind', '=', 'anonymous')]
  const user = principal.kind === 'user' ? principal.id : null
  if (user !== null) {
    alternatives.push(eb.and([eb('principal_kind', '=', 'user'), eb('principal_id', '=', user)]))
  }
  if ((user !== null && scope.groupDepth > 0) || principal.groups.length > 0) {
    const groups = bindText<string[]>(groupsText(scope, '$1', '$2'), [user, [...principal.groups]])
    alternatives.push(eb.and([eb('principal_kind', '=', 'group'), eb('principal_id', '=', sql<string>`any(${groups})`)]))
  }
  return eb.or(alternatives)
}

/** Grants in effect now: started (or unscheduled) and not expired. */
export function inEffect (eb: GrantEb) {
  return eb.and([
    eb.or([eb('starts_at', 'is', null), eb('starts_at', '<=', sql<Date>`now()`)]),
    eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)])
  ])
}

/** Grants in effect that count for `principal` on the target. */
export function effective (eb: GrantEb, principal: Principal, target: ResourceRef, scope: GroupScope) {
  return eb.and([countsOn(eb, target), heldBy(eb, principal, scope), inEffect(eb)])
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
