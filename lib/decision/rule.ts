// THE definition of what counts as allowed, as data plus one pure evaluator.
// Every other form is generated from the data below or held to the evaluator:
// lib/store/rule-sql.ts renders it as the prepared route check (and its ttl
// variant for the decision cache), checkMany, filter, listIds and the Kysely
// condition of explain, facts and a write's locked reads; the property test
// `check-agrees` holds all of them to `holds` and to `grantCounts`.
//
// A principal may exercise a privilege on a target when it is a superuser, or
// when one of WAYS holds: a live grant of an accepted privilege that names
// one of its GRANTEES on one of the TARGETS, or being the resource's recorded
// owner while an owner privilege is accepted. The accepted privileges are the
// policy's `satisfiedBy` (the closure of `implies`).
//
// Adding a way a grant can count (say, a grant on an ancestor resource) is a
// change here: a new `TargetKind` with its entry in TARGETS (what the target
// names, whether it depends on the resource's id) and its case in
// `targetMatches`, and a new entry in WAYS for where its probe goes in the
// check. The SQL generator keys its spelling of targets by `TargetKind`, so the
// compiler then asks for that one spelling, and every SQL form picks the new
// way up from WAYS; no statement is edited by hand.
import type { GranteeRef, Principal, ResourceRef } from '../../fastify-plugin.js'
import type { Policy } from './policy.js'

/** What the grant store found for one principal and one resource. */
export interface Facts {
  /** Privileges held through user, group, anonymous and type-level grants on the resource itself. */
  privileges: readonly string[]
  /** The recorded owner of the resource instance, if any. */
  owner: string | null
  /**
   * With resource hierarchies: what the principal holds on the resource's
   * ancestors, each with the edges of its path (`child>parent`, nearest
   * first); `privilege` null for an ancestor the principal owns. Absent: none.
   */
  inherited?: readonly Inherited[]
}

/** A grant (or, `privilege` null, ownership) held on an ancestor, and the path down from it. */
export interface Inherited {
  privilege: string | null
  edges: readonly string[]
}

export type GranteeKind = GranteeRef['kind']

/**
 * Whom a grant names, for it to count for a principal. `names`: which of the
 * principal's identities the grant's id must be; `stored` the id the grantee
 * is stored with when it is not one of those (the anonymous grantee's '').
 */
export interface GranteeRule {
  readonly kind: GranteeKind
  readonly names: 'user' | 'groups' | 'everyone'
  readonly stored: string | null
}

/**
 * The grantees, in the order a check probes them: the user itself; any of
 * its groups (the token's, and those the stored memberships reach within
 * `groupDepth` levels); and the anonymous grantee, who is everyone.
 */
export const GRANTEES: readonly GranteeRule[] = Object.freeze([
  Object.freeze({ kind: 'user', names: 'user', stored: null }),
  Object.freeze({ kind: 'group', names: 'groups', stored: null }),
  Object.freeze({ kind: 'anonymous', names: 'everyone', stored: '' })
] as const)

export type TargetKind = 'resource' | 'ancestor' | 'type'

/**
 * Where a grant counts. `resource`: the resource itself (a grant naming its
 * id); `ancestor`: a resource above it in its hierarchy, through a path
 * whose every edge lets the asked privilege pass (see `passes`); `type`:
 * every resource of its type (a grant with no id), which does not depend on
 * which id is asked about. Type-level grants do not flow down a hierarchy.
 */
export interface TargetRule {
  readonly kind: TargetKind
  readonly perId: boolean
}

export const TARGETS: Readonly<Record<TargetKind, TargetRule>> = Object.freeze({
  resource: Object.freeze({ kind: 'resource', perId: true }),
  ancestor: Object.freeze({ kind: 'ancestor', perId: true }),
  type: Object.freeze({ kind: 'type', perId: false })
})

/**
 * The ways a principal holds a privilege on a resource, in the order the
 * route check probes them (it stops at the first that holds): a grant on the
 * resource, ownership, a grant on an ancestor, ownership of an ancestor
 * (owner rights flow down like grants), a grant on its type. The ancestor
 * ways exist only with the `hierarchy` option.
 */
export type Way = { readonly kind: 'grant', readonly target: TargetRule } | { readonly kind: 'owner', readonly target: TargetRule }

export const WAYS: readonly Way[] = Object.freeze([
  Object.freeze({ kind: 'grant', target: TARGETS.resource }),
  Object.freeze({ kind: 'owner', target: TARGETS.resource }),
  Object.freeze({ kind: 'grant', target: TARGETS.ancestor }),
  Object.freeze({ kind: 'owner', target: TARGETS.ancestor }),
  Object.freeze({ kind: 'grant', target: TARGETS.type })
] as const)

/**
 * When a grant is in effect: from `startsAt` (inclusive) until `expiresAt`
 * (exclusive), either bound open when null.
 */
export function live (startsAt: Date | null, expiresAt: Date | null, now: number): boolean {
  return !expired(expiresAt, now) && (startsAt === null || startsAt.getTime() <= now)
}

/** Whether a grant has ended for good: what a manager's review leaves out (a grant yet to start still shows). */
export function expired (expiresAt: Date | null, now: number): boolean {
  return expiresAt !== null && expiresAt.getTime() <= now
}

/** Whether a grantee rule applies to `principal` at all: only a user has a user id, only a user or a token has groups. */
export function granteeApplies (rule: GranteeRule, principal: Principal, groupDepth: number): boolean {
  switch (rule.names) {
    case 'user': return principal.kind === 'user'
    case 'groups': return (principal.kind === 'user' && groupDepth > 0) || principal.groups.length > 0
    case 'everyone': return true
  }
}

/** Whether a target rule applies to a target: a type-level target has no resource to name. */
export function targetApplies (rule: TargetRule, target: ResourceRef): boolean {
  return rule.perId ? target.id !== null : true
}

function granteeMatches (rule: GranteeRule, grantee: GranteeRef, principal: Principal, groups: ReadonlySet<string>): boolean {
  if (grantee.kind !== rule.kind) return false
  switch (rule.names) {
    case 'user': return principal.kind === 'user' && 'id' in grantee && grantee.id === principal.id
    case 'groups': return 'id' in grantee && groups.has(grantee.id)
    case 'everyone': return true
  }
}

function targetMatches (rule: TargetRule, grant: ResourceRef, target: ResourceRef, ancestors: readonly ResourceRef[]): boolean {
  switch (rule.kind) {
    case 'resource': return grant.resource === target.resource && target.id !== null && grant.id === target.id
    case 'ancestor': return grant.id !== null && ancestors.some((a) => a.resource === grant.resource && a.id === grant.id)
    case 'type': return grant.resource === target.resource && grant.id === null
  }
}

/** Whether a path down from an ancestor lets the asked privilege pass: none of its edges is one `blocked` (the plan's) names. */
export function passes (edges: readonly string[], blocked: readonly string[] | undefined): boolean {
  return blocked === undefined || blocked.length === 0 || !edges.some((edge) => blocked.includes(edge))
}

/** A stored grant as the rule reads it. */
export interface StoredGrant {
  grantee: GranteeRef
  resource: string
  id: string | null
  privilege: string
  startsAt: Date | null
  expiresAt: Date | null
}

/**
 * Whether a stored grant counts for `principal` on `target` at `now`, whatever
 * its privilege (and whatever edges its path crosses): `groups` are all of
 * the principal's groups (token and stored), `ancestors` the target's. What
 * facts, sources and a write's locked reads select.
 */
export function grantCounts (
  grant: StoredGrant, principal: Principal, groups: ReadonlySet<string>, target: ResourceRef, now: number, ancestors: readonly ResourceRef[] = []
): boolean {
  const ref = { resource: grant.resource, id: grant.id }
  return live(grant.startsAt, grant.expiresAt, now) &&
    GRANTEES.some((rule) => granteeMatches(rule, grant.grantee, principal, groups)) &&
    Object.values(TARGETS).some((rule) => targetApplies(rule, target) && targetMatches(rule, ref, target, ancestors))
}

/**
 * Whose decisions need no grant: a superuser may do anything. The one place
 * the flag is read for a decision.
 */
export function overrides (principal: Principal): boolean {
  return principal.superuser
}

/** Whether `principal` is the recorded owner. */
export function owns (principal: Principal, owner: string | null): boolean {
  return principal.kind === 'user' && owner !== null && owner === principal.id
}

/**
 * Decides whether `principal` may exercise `privilege` given the stored facts.
 * Anything not positively granted is denied; `facts === null` means the
 * resource could not be looked up and is always a deny.
 */
export function holds (principal: Principal, privilege: string, facts: Facts | null, policy: Policy): boolean {
  if (overrides(principal)) return true
  if (facts === null) return false
  const accepted = policy.satisfiedBy.get(privilege)
  if (accepted === undefined) return false
  for (const held of facts.privileges) {
    if (accepted.has(held)) return true
  }
  const ownerCounts = [...policy.ownerPrivileges].some((held) => accepted.has(held))
  if (ownerCounts && owns(principal, facts.owner)) return true
  if (facts.inherited === undefined) return false
  const blocked = policy.blocked?.get(privilege)
  for (const via of facts.inherited) {
    if (!passes(via.edges, blocked)) continue
    if (via.privilege === null ? ownerCounts && principal.kind === 'user' : accepted.has(via.privilege)) return true
  }
  return false
}
