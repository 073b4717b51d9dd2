// The privilege names, what implies what, and what owners hold: the policy,
// resolved once and handed to everything that decides or validates.
import { MANAGE, satisfiedByOf, type Policy } from '../decision/policy.js'
import { invalid, nameList } from './values.js'

export const DEFAULT_PRIVILEGES = ['read', 'edit', 'delete'] as const

/** The policy the pure decision reads, with every configured privilege (`manage` included). */
export interface PolicyOptions extends Policy {
  readonly privileges: ReadonlySet<string>
}

export function policyOptions (opts: Record<string, unknown>): PolicyOptions {
  const configured = opts.privileges === undefined ? [...DEFAULT_PRIVILEGES] : nameList('privileges', opts.privileges)
  const privileges = configured.includes(MANAGE) ? configured : [...configured, MANAGE]
  const known = new Set(privileges)

  const implies = opts.implies === undefined ? {} : opts.implies
  if (typeof implies !== 'object' || implies === null || Array.isArray(implies)) invalid('implies', 'must be an object')
  for (const [holder, included] of Object.entries(implies)) {
    if (!known.has(holder)) invalid('implies', `names unknown privilege '${holder}'`)
    for (const privilege of nameList(`implies.${holder}`, included)) {
      if (!known.has(privilege)) invalid(`implies.${holder}`, `names unknown privilege '${privilege}'`)
    }
  }

  // An empty list is allowed: owners then hold nothing beyond their grants.
  const ownerPrivileges = opts.ownerPrivileges === undefined ? privileges : nameList('ownerPrivileges', opts.ownerPrivileges, true)
  for (const privilege of ownerPrivileges) {
    if (!known.has(privilege)) invalid('ownerPrivileges', `names unknown privilege '${privilege}'`)
  }
  const satisfiedBy = satisfiedByOf(privileges, implies as Record<string, string[]>)
  return Object.freeze({ privileges: known, satisfiedBy, ownerPrivileges: new Set(ownerPrivileges) })
}
