// Who a request is: which claims of the verified token name the user, their
// groups and superusers, or the host's own resolver.
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import { claimOption, invalid, positiveInteger } from './values.js'

export const DEFAULT_USER_CLAIM = 'sub'
export const DEFAULT_GROUPS_CLAIM = 'groups'
export const DEFAULT_MAX_GROUPS = 1000

export interface PrincipalOptions {
  readonly userClaim: string
  readonly groupsClaim: string
  readonly superuserClaim: string | false
  readonly resolvePrincipal: FastifyDefaultDenyOptions['resolvePrincipal'] | null
  /** Most groups a token may carry. */
  readonly maxGroups: number
}

export function principalOptions (opts: Record<string, unknown>): PrincipalOptions {
  const superuserClaim = opts.superuserClaim === undefined ? false : opts.superuserClaim
  if (superuserClaim !== false && (typeof superuserClaim !== 'string' || superuserClaim.length === 0)) {
    invalid('superuserClaim', 'must be a non-empty string or false')
  }
  if (opts.resolvePrincipal !== undefined && typeof opts.resolvePrincipal !== 'function') {
    invalid('resolvePrincipal', 'must be a function')
  }
  return Object.freeze({
    userClaim: claimOption(opts, 'userClaim', DEFAULT_USER_CLAIM),
    groupsClaim: claimOption(opts, 'groupsClaim', DEFAULT_GROUPS_CLAIM),
    superuserClaim: superuserClaim as string | false,
    resolvePrincipal: (opts.resolvePrincipal as PrincipalOptions['resolvePrincipal']) ?? null,
    maxGroups: positiveInteger(opts, 'maxGroups', DEFAULT_MAX_GROUPS, 100_000)
  })
}
