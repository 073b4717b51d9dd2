// Who is asking, as the decision sees it. Built from a verified token by the
// HTTP layer, or by host code for the service API and explain.
import type { Principal } from '../../fastify-plugin.js'

/** The principal of every request without credentials. */
export const ANONYMOUS: Principal = Object.freeze({
  kind: 'anonymous',
  id: null,
  groups: Object.freeze([]) as readonly string[],
  superuser: false,
  claims: null
})

/** A frozen user principal. */
export function userPrincipal (
  id: string, groups: readonly string[], superuser = false, claims: Record<string, unknown> | null = null
): Principal {
  return Object.freeze({
    kind: 'user',
    id,
    groups: Object.freeze([...groups]),
    superuser,
    claims: claims === null ? null : Object.freeze({ ...claims })
  })
}

/**
 * Whoever is in `group` and nothing more, as the decision sees them: no user
 * id (so no grant to a user and no ownership counts), the group as its one
 * group (the stored groups it is in count too). For asking what a group
 * gives its members.
 */
export function groupPrincipal (group: string): Principal {
  return Object.freeze({
    kind: 'anonymous',
    id: null,
    groups: Object.freeze([group]),
    superuser: false,
    claims: null
  })
}
