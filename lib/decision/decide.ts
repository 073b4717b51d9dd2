// The one definition of "allowed". Pure and synchronous: no Fastify, no I/O,
// so every policy case is testable without HTTP or a database.
import type { Principal } from '../../fastify-plugin.js'
import type { Policy } from './policy.js'

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
