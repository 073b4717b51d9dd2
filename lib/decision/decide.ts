// The one definition of "allowed". Pure and synchronous: no Fastify, no I/O,
// so every policy case is testable without HTTP or a database.
import type { Explanation, GranteeRef, Principal, Reason } from '../../fastify-plugin.js'

/** What a route requires once its annotation has been validated. */
export type Requirement =
  | { kind: 'unannotated' }
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'resource', resource: string, privilege: string }

/** What the grant store found for one principal and one resource. */
export interface Facts {
  /** Privileges held through user, group, anonymous and type-level grants. */
  privileges: readonly string[]
  /** The recorded owner of the resource instance, if any. */
  owner: string | null
}

export interface Policy {
  satisfiedBy: ReadonlyMap<string, ReadonlySet<string>>
  ownerPrivileges: ReadonlySet<string>
}

export type Decision = 'allow' | 'deny' | 'unauthenticated'

/**
 * Decides whether `principal` may exercise `privilege` given the stored facts.
 * Anything not positively granted is denied; `facts === null` means the
 * resource could not be looked up and is always a deny.
 */
export function holds (principal: Principal, privilege: string, facts: Facts | null, policy: Policy): boolean {
  if (principal.superuser) return true
  if (facts === null) return false
  const accepted = policy.satisfiedBy.get(privilege)
  if (accepted === undefined) return false
  for (const held of facts.privileges) {
    if (accepted.has(held)) return true
  }
  if (principal.kind === 'user' && facts.owner !== null && facts.owner === principal.id) {
    for (const held of policy.ownerPrivileges) {
      if (accepted.has(held)) return true
    }
  }
  return false
}

export function decide (principal: Principal, requirement: Requirement, facts: Facts | null, policy: Policy): Decision {
  switch (requirement.kind) {
    case 'public':
      return 'allow'
    case 'authenticated':
      return principal.kind === 'user' ? 'allow' : 'unauthenticated'
    case 'resource':
      return holds(principal, requirement.privilege, facts, policy) ? 'allow' : 'deny'
    default:
      return 'deny'
  }
}

/** A stored grant that counts for a principal, and how. */
export interface Source {
  privilege: string
  grantee: GranteeRef
  typeLevel: boolean
  expiresAt: Date | null
}

export const MANAGE = 'manage'

/**
 * The privileges whose holder manages a resource: `manage` and every
 * privilege that implies it. The one definition used to authorize the grant
 * API, to guard the last manager, and to refuse delegation.
 */
export function managingPrivileges (policy: Policy): ReadonlySet<string> {
  return policy.satisfiedBy.get(MANAGE) ?? new Set([MANAGE])
}

/** Owner, superuser, or a holder of `manage` (or of a privilege implying it): who may see and change a resource's grants. */
export function mayManage (principal: Principal, facts: Facts, policy: Policy): boolean {
  if (principal.kind !== 'user') return false
  return principal.superuser || (facts.owner !== null && facts.owner === principal.id) || holds(principal, MANAGE, facts, policy)
}

export type ChangeDecision = 'allow' | 'forbidden' | 'escalation'

/**
 * May `principal` grant (or take away) `privilege` on a resource? Owners and
 * superusers may change anything; other managers only what they hold
 * themselves, and a privilege that makes its holder a manager only when
 * delegation is allowed.
 */
export function mayChange (
  principal: Principal, facts: Facts, privilege: string, policy: Policy, allowManageDelegation: boolean
): ChangeDecision {
  if (!mayManage(principal, facts, policy)) return 'forbidden'
  if (principal.superuser || facts.owner === principal.id) return 'allow'
  if (!allowManageDelegation && managingPrivileges(policy).has(privilege)) return 'escalation'
  return holds(principal, privilege, facts, policy) ? 'allow' : 'escalation'
}

function describeGrantee (grantee: GranteeRef): string {
  return grantee.kind === 'anonymous' ? 'everyone (anonymous)' : `${grantee.kind} ${grantee.id}`
}

/** Why a principal can (or cannot) do things on a resource, in data and in words. */
export function explain (
  principal: Principal, sources: Source[], owner: string | null, policy: Policy, asked: string | null
): Explanation {
  const reasonsFor = (privilege: string): Reason[] => {
    const accepted = policy.satisfiedBy.get(privilege) ?? new Set<string>()
    const reasons: Reason[] = []
    if (principal.superuser) reasons.push({ source: 'superuser', privilege, typeLevel: false })
    if (principal.kind === 'user' && owner !== null && owner === principal.id) {
      for (const held of policy.ownerPrivileges) {
        if (accepted.has(held)) reasons.push({ source: 'owner', privilege: held, typeLevel: false })
      }
    }
    for (const source of sources) {
      if (accepted.has(source.privilege)) {
        reasons.push({ source: source.grantee.kind, grantee: source.grantee, privilege: source.privilege, typeLevel: source.typeLevel })
      }
    }
    return reasons
  }
  const privileges = [...policy.satisfiedBy.keys()]
    .map((privilege) => ({ privilege, via: reasonsFor(privilege) }))
    .filter((entry) => entry.via.length > 0)
  if (asked === null) {
    const names = privileges.map((entry) => entry.privilege)
    return { privileges, summary: names.length === 0 ? 'holds nothing on this resource' : `can ${names.join(', ')}` }
  }
  const via = reasonsFor(asked)
  if (via.length > 0) {
    const first = via[0] as Reason
    const why = first.source === 'superuser'
      ? 'is a superuser'
      : first.source === 'owner'
        ? `owns the resource (owners hold ${first.privilege})`
        : `${describeGrantee(first.grantee as GranteeRef)} holds ${first.privilege}${first.typeLevel ? ' on every resource of the type' : ''}`
    return { privileges, decision: 'allow', summary: `allowed: ${why}` }
  }
  const held = sources.map((source) =>
    `${describeGrantee(source.grantee)} holds ${source.privilege}${source.typeLevel ? ' on every resource of the type' : ''}`)
  if (owner !== null && owner === principal.id) held.unshift(`owns the resource (owners hold ${[...policy.ownerPrivileges].join(', ') || 'nothing'})`)
  return {
    privileges,
    decision: 'deny',
    summary: held.length === 0
      ? `denied: nothing is granted on this resource; the request needs ${asked}`
      : `denied: ${held.join('; ')}; the request needs ${asked}`
  }
}
