// What the configuration says about privileges, as data the pure decision
// functions read: which privileges satisfy which, what owners hold, who
// manages, and what a request acting at a capped level may still do.

export interface Policy {
  /** For each privilege, every privilege whose holder also holds it (itself included). */
  satisfiedBy: ReadonlyMap<string, ReadonlySet<string>>
  ownerPrivileges: ReadonlySet<string>
  /**
   * With resource hierarchies: for each requested privilege, the edges
   * (`child>parent`) a grant on an ancestor does not pass it across. Absent
   * or missing a privilege: every edge passes it.
   */
  blocked?: ReadonlyMap<string, readonly string[]>
}

/** The right to see and change a resource's grants. Always known. */
export const MANAGE = 'manage'

/**
 * The privileges whose holder manages a resource: `manage` and every
 * privilege that implies it. The one definition used to authorize the grant
 * API, to guard the last manager, and to refuse delegation.
 */
export function managingPrivileges (policy: Policy): ReadonlySet<string> {
  return policy.satisfiedBy.get(MANAGE) ?? new Set([MANAGE])
}

/**
 * Whether a request acting at `level` may exercise `privilege`. Levels only
 * ever restrict: a level with no cap, or no level at all, allows everything
 * (the grant is still needed).
 *
 * @example
 * levelAllows(new Map([['reader', new Set(['read'])]]), 'reader', 'edit') // false
 */
export function levelAllows (
  levelPrivileges: ReadonlyMap<string, ReadonlySet<string>>, level: string | null, privilege: string
): boolean {
  if (level === null) return true
  const allowed = levelPrivileges.get(level)
  return allowed === undefined || allowed.has(privilege)
}

/** Closes `implies` transitively, so the request path does a single set lookup. */
export function satisfiedByOf (privileges: readonly string[], implies: Readonly<Record<string, readonly string[]>>): Map<string, Set<string>> {
  const includes = new Map<string, Set<string>>()
  for (const privilege of privileges) {
    const seen = new Set<string>([privilege])
    const stack = [...(implies[privilege] ?? [])]
    while (stack.length > 0) {
      const next = stack.pop() as string
      if (seen.has(next)) continue
      seen.add(next)
      stack.push(...(implies[next] ?? []))
    }
    includes.set(privilege, seen)
  }
  const satisfiedBy = new Map<string, Set<string>>()
  for (const privilege of privileges) satisfiedBy.set(privilege, new Set())
  for (const [holder, included] of includes) {
    for (const privilege of included) satisfiedBy.get(privilege)?.add(holder)
  }
  return satisfiedBy
}

const NONE: readonly string[] = Object.freeze([])

/** What a yes/no check for one privilege looks for, worked out once per privilege. */
export interface CheckPlan {
  /** The stored privileges any of which satisfies the requirement. */
  accepted: readonly string[]
  /** Whether being the recorded owner satisfies it. */
  ownerCounts: boolean
  /** The edges of the hierarchy it does not pass (see `Policy.blocked`): a path through one does not count. */
  blocked: readonly string[]
}

/**
 * The plan of a check for `privilege`: the same rule as `holds`, put as what
 * to look for in the database. An unknown privilege accepts nothing.
 *
 * @example
 * checkPlan({ satisfiedBy: new Map([['read', new Set(['read', 'edit'])]]), ownerPrivileges: new Set(['read']) }, 'read')
 * // { accepted: ['read', 'edit'], ownerCounts: true, blocked: [] }
 */
export function checkPlan (policy: Policy, privilege: string): CheckPlan {
  const accepted = policy.satisfiedBy.get(privilege)
  if (accepted === undefined) return Object.freeze({ accepted: Object.freeze([]), ownerCounts: false, blocked: NONE })
  let ownerCounts = false
  for (const held of policy.ownerPrivileges) if (accepted.has(held)) ownerCounts = true
  return Object.freeze({ accepted: Object.freeze([...accepted]), ownerCounts, blocked: policy.blocked?.get(privilege) ?? NONE })
}
