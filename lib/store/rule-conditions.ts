// The rule's conditions as bound fragments of the reader's and the writer's
// own Kysely queries (explain, the facts, a write's locked reads, the
// last-manager guard, the purge), spelled with rule-sql.ts's pieces: the
// same grantees, targets and liveness as every generated statement.
import type { RawBuilder, SqlBool } from 'kysely'
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import { GRANTEES, granteeApplies, targetApplies } from '../decision/rule.js'
import { bindText, groupsText } from './predicates.js'
import { EXPIRED, grantee, LIVE, spellings, targetsOf, USER, type RuleScope } from './rule-sql.js'

/** The grantees that can apply to `principal` (no user, no groups: left out), each as a condition on a grant row. */
function holders (principal: Principal, scope: RuleScope): string[] {
  const groups = groupsText(scope, USER, '$5')
  return GRANTEES.filter((rule) => granteeApplies(rule, principal, scope.groupDepth)).map((rule) => `(${grantee(rule, groups, false)})`)
}

/**
 * Grants in effect that count for `principal` on the target, whatever their
 * privilege, as a condition on the grant table: what explain, the facts and
 * a write's locked reads select. The grantees and targets that cannot apply
 * (no user, no groups; no id) are left out; grants on ancestors only with
 * `ancestors` (whatever edges their paths cross: `inherited` says which).
 */
export function effective (principal: Principal, target: ResourceRef, scope: RuleScope, ancestors = false): RawBuilder<SqlBool> {
  const who = holders(principal, scope)
  const text = `${countsOnText(target, scope, ancestors)} and (${who.join(' or ')}) and ${LIVE}`
  return bindText<SqlBool>(text, [target.resource, target.id, null, principal.kind === 'user' ? principal.id : null, [...principal.groups], null, null, []])
}

function countsOnText (target: ResourceRef, scope: RuleScope, ancestors: boolean): string {
  const { grants } = spellings(scope, '$8')
  const kinds = targetsOf(scope).filter((rule) => targetApplies(rule, target) && (ancestors || rule.kind !== 'ancestor'))
  return `(${kinds.map((rule) => `(${grants[rule.kind].on('$2')})`).join(' or ')})`
}

/**
 * What the principal holds on the target's ancestors, as rows of
 * (privilege, edges): each live grant that counts for it on an ancestor
 * (`g`, joined to its closure row `c`) and, with privilege null, each
 * ancestor it owns (`r`). `lock`: FOR SHARE, so that a write deciding on
 * them holds off the revoke, hand-over or move that would take them away.
 */
export function inherited (principal: Principal, target: ResourceRef & { id: string }, scope: RuleScope, lock = false): Array<RawBuilder<{ privilege: string | null, edges: string[] }>> {
  const closure = `"${scope.schema}".default_deny_resource_ancestor`
  const who = holders(principal, scope)
  const path = 'c.descendant_type = $1 and c.descendant_id = $2'
  const grants = `select g.privilege, c.edges from ${closure} c join "${scope.schema}".default_deny_grant g
    on g.resource_type = c.ancestor_type and g.resource_id = c.ancestor_id where ${path} and (${who.join(' or ')}) and ${LIVE}${lock ? ' for share of g, c' : ''}`
  const owned = `select null::text as privilege, c.edges from ${closure} c join "${scope.schema}".default_deny_resource r
    on r.resource_type = c.ancestor_type and r.resource_id = c.ancestor_id where ${path} and r.owner_id = ${USER}${lock ? ' for share of r, c' : ''}`
  // FOR SHARE is not allowed with UNION: locked, they are two statements.
  const values = [target.resource, target.id, null, principal.kind === 'user' ? principal.id : null, [...principal.groups]]
  return (lock ? [grants, owned] : [`${grants} union all ${owned}`]).map((text) => bindText(text, values))
}

/** Grants in effect on the target, whoever holds them, those on ancestors through paths that pass `blocked`'s privilege: what counts the managers left. */
export function inEffectOn (target: ResourceRef, scope: RuleScope, blocked: readonly string[] = []): RawBuilder<SqlBool> {
  return bindText<SqlBool>(`${countsOnText(target, scope, true)} and ${LIVE}`, [target.resource, target.id, null, null, null, null, null, [...blocked]])
}

/** How many of the target's ancestors reached through paths that pass (see `inEffectOn`) have an owner. */
export function ownedAncestors (target: ResourceRef & { id: string }, scope: RuleScope, blocked: readonly string[] = []): RawBuilder<number> {
  if (scope.hierarchy == null) return bindText<number>('select 0', [])
  const closure = `"${scope.schema}".default_deny_resource_ancestor`
  return bindText<number>(`select count(*)::int from "${scope.schema}".default_deny_resource r join ${closure} c
    on r.resource_type = c.ancestor_type and r.resource_id = c.ancestor_id
    where c.descendant_type = $1 and c.descendant_id = $2 and not (c.edges && $8::text[]) and r.owner_id is not null`,
  [target.resource, target.id, null, null, null, null, null, [...blocked]])
}

/** Grants past their expiry: they can never count again (what the purge deletes). */
export function expired (): RawBuilder<SqlBool> {
  return bindText<SqlBool>(EXPIRED, [])
}
