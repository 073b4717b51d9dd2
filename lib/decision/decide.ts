// A route's requirement decided on the facts: what "allowed" means is
// lib/decision/rule.ts's. Pure and synchronous: no Fastify, no I/O, so every
// policy case is testable without HTTP or a database.
import type { Principal } from '../../fastify-plugin.js'
import type { Policy } from './policy.js'
import { holds, type Facts } from './rule.js'

export { holds, type Facts } from './rule.js'

/** What a route requires once its annotation has been validated. */
export type Requirement =
  | { kind: 'unannotated' }
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'resource', resource: string, privilege: string }

export type Decision = 'allow' | 'deny' | 'unauthenticated'

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
