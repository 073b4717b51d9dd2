// Who holds what, on which resource, until when: the conditions every grant
// query is built from. The check, explain, the locked reads of a write and
// (to come) the list filter all use these, so they cannot disagree.
import { sql, type ExpressionBuilder } from 'kysely'
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

/** Grants that count for `principal`: its own, its groups', and everyone's. */
export function heldBy (eb: GrantEb, principal: Principal) {
  const alternatives = [eb('principal_kind', '=', 'anonymous')]
  if (principal.kind === 'user' && principal.id !== null) {
    alternatives.push(eb.and([eb('principal_kind', '=', 'user'), eb('principal_id', '=', principal.id)]))
  }
  if (principal.groups.length > 0) {
    alternatives.push(eb.and([eb('principal_kind', '=', 'group'), eb('principal_id', '=', anyOf(principal.groups))]))
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
export function effective (eb: GrantEb, principal: Principal, target: ResourceRef) {
  return eb.and([countsOn(eb, target), heldBy(eb, principal), inEffect(eb)])
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
