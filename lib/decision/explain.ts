// Why a principal can or cannot do something, in data and in words, from the
// same facts and policy the decision uses.
import type { Explanation, GranteeRef, Principal, Reason, ResourceRef } from '../../fastify-plugin.js'
import type { Policy } from './policy.js'
import { overrides, owns, passes } from './rule.js'

/** An ancestor of the resource explained, and the path down from it. */
export interface AncestorPath extends ResourceRef {
  id: string
  depth: number
  /** `child>parent` type pairs, nearest first. */
  edges: readonly string[]
  /** The resources between it and the resource explained, nearest first. */
  through: readonly ResourceRef[]
}

/** A stored grant that counts for a principal, and how. */
export interface Source {
  privilege: string
  grantee: GranteeRef
  typeLevel: boolean
  expiresAt: Date | null
  /** Held on this ancestor, not on the resource itself. */
  ancestor?: AncestorPath
}

/**
 * The groups between a principal and each group it is in, nearest first
 * (empty for a token's group or a direct membership).
 */
export type GroupPaths = ReadonlyMap<string, readonly string[]>

/** What explain knows besides the sources: group paths, the ancestors the principal owns, the resource itself (for the words). */
export interface ExplainContext {
  paths?: GroupPaths
  ownedAbove?: readonly AncestorPath[]
  target?: ResourceRef
}

const named = (ref: ResourceRef) => `${ref.resource} ${ref.id ?? ''}`.trimEnd()

/** Why a principal can (or cannot) do things on a resource, in data and in words. */
export function explain (
  principal: Principal, sources: Source[], owner: string | null, policy: Policy, asked: string | null, context: ExplainContext = {}
): Explanation {
  const paths = context.paths ?? new Map<string, readonly string[]>()
  const ownedAbove = context.ownedAbove ?? []
  const viaOf = (grantee: GranteeRef) => grantee.kind === 'group' ? paths.get(grantee.id) ?? [] : []
  const describeGrantee = (grantee: GranteeRef): string => {
    if (grantee.kind === 'anonymous') return 'everyone (anonymous)'
    const via = viaOf(grantee)
    return via.length === 0 ? `${grantee.kind} ${grantee.id}` : `group ${grantee.id} (through ${via.join(' → ')})`
  }
  // `on project p1, ancestor of document d9 (through folder f2)`
  const where = (ancestor: AncestorPath | undefined, typeLevel: boolean): string => {
    if (ancestor !== undefined) {
      const through = ancestor.through.length === 0 ? '' : ` (through ${ancestor.through.map(named).join(', ')})`
      return ` on ${named(ancestor)}, ancestor of ${context.target === undefined ? 'the resource' : named(context.target)}${through}`
    }
    return typeLevel ? ' on every resource of the type' : ''
  }
  const pathOf = (ancestor: AncestorPath) => ({ ancestor: { resource: ancestor.resource, id: ancestor.id }, through: ancestor.through.map((r) => ({ resource: r.resource, id: r.id as string })) })
  const reasonsFor = (privilege: string): Reason[] => {
    const accepted = policy.satisfiedBy.get(privilege) ?? new Set<string>()
    const blocked = policy.blocked?.get(privilege)
    const reasons: Reason[] = []
    if (overrides(principal)) reasons.push({ source: 'superuser', privilege, typeLevel: false })
    if (owns(principal, owner)) {
      for (const held of policy.ownerPrivileges) {
        if (accepted.has(held)) reasons.push({ source: 'owner', privilege: held, typeLevel: false })
      }
    }
    for (const source of sources) {
      if (!accepted.has(source.privilege) || (source.ancestor !== undefined && !passes(source.ancestor.edges, blocked))) continue
      const via = viaOf(source.grantee)
      reasons.push({
        source: source.grantee.kind,
        grantee: source.grantee,
        privilege: source.privilege,
        typeLevel: source.typeLevel,
        ...(via.length > 0 ? { via: [...via] } : {}),
        ...(source.ancestor === undefined ? {} : pathOf(source.ancestor))
      })
    }
    for (const ancestor of ownedAbove) {
      if (!passes(ancestor.edges, blocked)) continue
      for (const held of policy.ownerPrivileges) {
        if (accepted.has(held)) reasons.push({ source: 'owner', privilege: held, typeLevel: false, ...pathOf(ancestor) })
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
  const ancestorOf = (reason: Reason) => reason.ancestor === undefined ? undefined : ownedAbove.find((a) => a.resource === reason.ancestor?.resource && a.id === reason.ancestor.id)
  if (via.length > 0) {
    const first = via[0] as Reason
    const why = first.source === 'superuser'
      ? 'is a superuser'
      : first.source === 'owner'
        ? first.ancestor === undefined
          ? `owns the resource (owners hold ${first.privilege})`
          : `owns ${where(ancestorOf(first), false).slice(4)} (owners hold ${first.privilege})`
        : `${describeGrantee(first.grantee as GranteeRef)} holds ${first.privilege}${where(sources.find((s) => s.ancestor?.resource === first.ancestor?.resource && s.ancestor?.id === first.ancestor?.id)?.ancestor, first.typeLevel)}`
    return { privileges, decision: 'allow', summary: `allowed: ${why}` }
  }
  const held = sources.map((source) => `${describeGrantee(source.grantee)} holds ${source.privilege}${where(source.ancestor, source.typeLevel)}`)
  for (const ancestor of ownedAbove) held.push(`owns ${where(ancestor, false).slice(4)}`)
  if (owns(principal, owner)) held.unshift(`owns the resource (owners hold ${[...policy.ownerPrivileges].join(', ') || 'nothing'})`)
  return {
    privileges,
    decision: 'deny',
    summary: held.length === 0
      ? `denied: nothing is granted on this resource; the request needs ${asked}`
      : `denied: ${held.join('; ')}; the request needs ${asked}`
  }
}
