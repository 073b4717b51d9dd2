// The grant API: where its routes are mounted, what the anonymous principal
// may be granted, delegation of `manage`, and the host's hooks on a change.
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import { managingPrivileges } from '../decision/policy.js'
import type { PolicyOptions } from './policy.js'
import { booleanOption, invalid, nameList } from './values.js'

export const DEFAULT_ANONYMOUS_PRIVILEGES = ['read'] as const
export const DEFAULT_GRANT_ROUTES_PREFIX = '/permissions'

export interface GrantOptions {
  readonly allowManageDelegation: boolean
  readonly anonymousPrivileges: ReadonlySet<string>
  readonly canHold: FastifyDefaultDenyOptions['canHold'] | null
  readonly resourceExists: FastifyDefaultDenyOptions['resourceExists'] | null
}

export interface GrantRoutesOptions {
  readonly prefix: string
  readonly securityScheme: string | null
}

/** What the anonymous principal may be granted: never a managing privilege. */
function anonymousPrivilegesOption (opts: Record<string, unknown>, policy: PolicyOptions): ReadonlySet<string> {
  const anonymousPrivileges = opts.anonymousPrivileges === undefined
    ? [...DEFAULT_ANONYMOUS_PRIVILEGES]
    : nameList('anonymousPrivileges', opts.anonymousPrivileges, true)
  const managing = managingPrivileges(policy)
  for (const privilege of anonymousPrivileges) {
    if (!policy.privileges.has(privilege)) invalid('anonymousPrivileges', `names unknown privilege '${privilege}'`)
    if (managing.has(privilege)) {
      invalid('anonymousPrivileges', `must not contain '${privilege}': it makes its holder a manager, and no one could be held responsible`)
    }
  }
  return new Set(anonymousPrivileges)
}

export function grantOptions (opts: Record<string, unknown>, policy: PolicyOptions): GrantOptions {
  const anonymousPrivileges = anonymousPrivilegesOption(opts, policy)
  for (const name of ['canHold', 'resourceExists']) {
    if (opts[name] !== undefined && typeof opts[name] !== 'function') invalid(name, 'must be a function')
  }
  return Object.freeze({
    allowManageDelegation: booleanOption(opts, 'allowManageDelegation', false),
    anonymousPrivileges,
    canHold: (opts.canHold as GrantOptions['canHold']) ?? null,
    resourceExists: (opts.resourceExists as GrantOptions['resourceExists']) ?? null
  })
}

/** The grant routes, or `null` when `grantRoutes: false` turns them off. */
export function grantRoutesOption (value: unknown): GrantRoutesOptions | null {
  if (value === false) return null
  if (value === undefined) return Object.freeze({ prefix: DEFAULT_GRANT_ROUTES_PREFIX, securityScheme: null })
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('grantRoutes', 'must be false or { prefix, securityScheme }')
  const { prefix = DEFAULT_GRANT_ROUTES_PREFIX, securityScheme = false, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) invalid('grantRoutes', `has unknown key '${Object.keys(rest)[0]}'`)
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) invalid('grantRoutes.prefix', "must look like '/permissions'")
  if (securityScheme !== false && (typeof securityScheme !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(securityScheme))) {
    invalid('grantRoutes.securityScheme', 'must be false or the name of a security scheme (letters, digits, . _ -)')
  }
  return Object.freeze({ prefix, securityScheme: securityScheme === false ? null : securityScheme as string })
}
