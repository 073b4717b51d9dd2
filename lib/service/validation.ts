// Input checks shared by the service API and the grant routes. Each caller
// builds them with its own `fail`: the service API answers
// FST_DEFAULT_DENY_INVALID_GRANT with the reason, the HTTP API a generic 400.
import type { GranteeRef, MemberRef, ResourceRef } from '../../fastify-plugin.js'
import { isValidId, isValidText, MAX_REASON_LENGTH, MAX_REQUEST_ID_LENGTH } from '../decision/ids.js'
import { codes } from '../errors.js'
import type { WriteContext } from '../store/audit.js'
import type { Settings } from '../options.js'

export type Fail = (message: string) => never

export type ValidationSettings = Pick<Settings, 'maxIdLength' | 'privileges' | 'anonymousPrivileges' | 'canHold'>

export interface Validators {
  id: (value: unknown) => value is string
  target: (input: unknown, allowTypeLevel?: boolean) => ResourceRef
  grantee: (grantee: unknown) => GranteeRef
  privilege: (privilege: unknown) => string
  /** A group and one of its members: a user, or another group (never the group itself). */
  membership: (group: unknown, member: unknown) => { group: string, member: MemberRef }
  /** `startsAt` and `expiresAt` together: a grant must start before it expires. */
  schedule: (input: { expiresAt?: unknown, startsAt?: unknown }) => { expiresAt: Date | null, startsAt: Date | null }
  /**
   * Who, why and which request: all of it is hashed into the audit trail, so
   * it must come back from PostgreSQL exactly as sent (no NUL, no lone
   * surrogate, bounded length).
   */
  context: (input: { actor: unknown, reason: unknown, requestId: unknown }) => WriteContext
  /** Refuses with FST_DEFAULT_DENY_INELIGIBLE a grantee who may not hold the privilege. */
  eligible: (grantee: GranteeRef, privilege: string, target: ResourceRef) => Promise<void>
}

export function createValidators (settings: ValidationSettings, fail: Fail): Validators {
  const id = (value: unknown): value is string => isValidId(value, settings.maxIdLength)
  const instant = (name: string, value: unknown): Date | null => {
    if (value === undefined || value === null) return null
    if (!(value instanceof Date) || !Number.isFinite(value.getTime())) fail(`${name} must be a valid Date`)
    return value as Date
  }
  const text = (name: string, value: unknown, max: number): string | null => {
    if (value === undefined || value === null) return null
    if (!isValidText(value, max)) fail(`${name} must be well-formed text of at most ${max} characters without NUL`)
    return value as string
  }
  return {
    id,
    target (input, allowTypeLevel = true) {
      if (typeof input !== 'object' || input === null) return fail('expected an object')
      const { resource, id: resourceId } = input as Record<string, unknown>
      if (!id(resource)) fail('resource must be a valid id')
      if (resourceId === null ? !allowTypeLevel : !id(resourceId)) fail(allowTypeLevel ? 'id must be a valid id or null' : 'id must be a valid id')
      return { resource: resource as string, id: resourceId as string | null }
    },
    grantee (grantee) {
      if (typeof grantee !== 'object' || grantee === null) return fail('grantee must be an object')
      const { kind, id: granteeId } = grantee as Record<string, unknown>
      if (kind === 'anonymous') return { kind }
      if (kind !== 'user' && kind !== 'group') return fail("grantee.kind must be 'user', 'group' or 'anonymous'")
      if (!id(granteeId)) fail('grantee.id must be a valid id')
      return { kind, id: granteeId as string }
    },
    membership (group, member) {
      if (!id(group)) fail('group must be a valid id')
      if (typeof member !== 'object' || member === null) return fail('member must be an object')
      const { kind, id: memberId } = member as Record<string, unknown>
      if (kind !== 'user' && kind !== 'group') fail("member.kind must be 'user' or 'group'")
      if (!id(memberId)) fail('member.id must be a valid id')
      if (kind === 'group' && memberId === group) fail('a group cannot be a member of itself')
      return { group: group as string, member: { kind, id: memberId } as MemberRef }
    },
    privilege (privilege) {
      if (typeof privilege !== 'string' || !settings.privileges.has(privilege)) fail('unknown privilege')
      return privilege as string
    },
    schedule ({ expiresAt, startsAt }) {
      const expires = instant('expiresAt', expiresAt)
      const starts = instant('startsAt', startsAt)
      if (starts !== null && expires !== null && starts.getTime() >= expires.getTime()) fail('startsAt must be before expiresAt')
      return { expiresAt: expires, startsAt: starts }
    },
    context ({ actor, reason, requestId }) {
      if (actor !== undefined && actor !== null && !id(actor)) fail('actor must be a valid id')
      return {
        actor: (actor ?? null) as string | null,
        reason: text('reason', reason, MAX_REASON_LENGTH),
        requestId: text('requestId', requestId, MAX_REQUEST_ID_LENGTH)
      }
    },
    async eligible (grantee, privilege, target) {
      if (grantee.kind === 'anonymous' && !settings.anonymousPrivileges.has(privilege)) {
        throw new codes.FST_DEFAULT_DENY_INELIGIBLE()
      }
      const canHold = settings.canHold
      if (typeof canHold === 'function' && await canHold(grantee, privilege as never, target) !== true) {
        throw new codes.FST_DEFAULT_DENY_INELIGIBLE()
      }
    }
  }
}
