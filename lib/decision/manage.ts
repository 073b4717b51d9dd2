// Who may see and change a resource's grants, and which changes they may
// make. Pure: the grant API and the service layer ask, the store supplies facts.
import type { Principal } from '../../fastify-plugin.js'
import { holds, overrides, owns, type Facts } from './rule.js'
import { MANAGE, managingPrivileges, type Policy } from './policy.js'

/** Owner, superuser, or a holder of `manage` (or of a privilege implying it): who may see and change a resource's grants. */
export function mayManage (principal: Principal, facts: Facts, policy: Policy): boolean {
  if (principal.kind !== 'user') return false
  return owns(principal, facts.owner) || holds(principal, MANAGE, facts, policy)
}

/** Who may hand a resource to someone else (or to no one): its owner, or a superuser; other managers may not. */
export function mayHandOver (principal: Principal, owner: string | null): boolean {
  return overrides(principal) || owns(principal, owner)
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
  if (overrides(principal) || owns(principal, facts.owner)) return 'allow'
  if (!allowManageDelegation && managingPrivileges(policy).has(privilege)) return 'escalation'
  return holds(principal, privilege, facts, policy) ? 'allow' : 'escalation'
}
