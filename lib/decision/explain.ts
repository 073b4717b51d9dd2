// Why a principal can or cannot do something, in data and in words, from the
// same facts and policy the decision uses.
import type { Explanation, GranteeRef, Principal, Reason } from '../../fastify-plugin.js'
import type { Policy } from './policy.js'
import { overrides, owns } from './rule.js'

/** A stored grant that counts for a principal, and how. */
export interface Source {
  privilege: string
  grantee: GranteeRef
  typeLevel: boolean
  expiresAt: Date | null
}

/**
 * The groups between a principal and each group it is in, nearest first
 * (empty for a token's group or a direct membership).
 */
export type GroupPaths = ReadonlyMap<string, readonly string[]>

/** Why a principal can (or cannot) do things on a resource, in data and in words. */
export function explain (
  principal: Principal, sources: Source[], owner: string | null, policy: Policy, asked: string | null, paths: GroupPaths = new Map()
): Explanation {
  const viaOf = (grantee: GranteeRef) => grantee.kind === 'group' ? paths.get(grantee.id) ?? [] : []
  const describeGrantee = (grantee: GranteeRef): string => {
    if (grantee.kind === 'anonymous') return 'everyone (anonymous)'
    const via = viaOf(grantee)
    return via.length === 0 ? `${grantee.kind} ${grantee.id}` : `group ${grantee.id} (through ${via.join(' → ')})`
  }
  const reasonsFor = (privilege: string): Reason[] => {
    const accepted = policy.satisfiedBy.get(privilege) ?? new Set<string>()
    const reasons: Reason[] = []
    if (overrides(principal)) reasons.push({ source: 'superuser', privilege, typeLevel: false })
    if (owns(principal, owner)) {
      for (const held of policy.ownerPrivileges) {
        if (accepted.has(held)) reasons.push({ source: 'owner', privilege: held, typeLevel: false })
      }
    }
    for (const source of sources) {
      if (accepted.has(source.privilege)) {
        const via = viaOf(source.grantee)
        reasons.push({
          source: source.grantee.kind, grantee: source.grantee, privilege: source.privilege, typeLevel: source.typeLevel, ...(via.length > 0 ? { via: [...via] } : {})
        })
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
  if (owns(principal, owner)) held.unshift(`owns the resource (owners hold ${[...policy.ownerPrivileges].join(', ') || 'nothing'})`)
  return {
    privileges,
    decision: 'deny',
    summary: held.length === 0
      ? `denied: nothing is granted on this resource; the request needs ${asked}`
      : `denied: ${held.join('; ')}; the request needs ${asked}`
  }
}
