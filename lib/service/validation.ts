// Input checks shared by the service API, the grant routes and the CLI. Each
// caller builds them with its own `fail`: the service API answers
// FST_DEFAULT_DENY_INVALID_GRANT, the HTTP API FST_DEFAULT_DENY_INVALID_REQUEST.
// Either way the message names the field and the rule, and echoes only what
// the caller sent (see `quoted`): never a grant, a row or anything internal.
import type { GranteeRef, MemberRef, ResourceRef } from '../../fastify-plugin.js'
import { isValidId, isValidText, MAX_REASON_LENGTH, MAX_REQUEST_ID_LENGTH } from '../decision/ids.js'
import type { ResourceTypes } from '../decision/resource-types.js'
import { codes, quoted } from '../errors.js'
import type { WriteContext } from '../store/audit.js'
import type { EnforcementOptions, GrantOptions, PolicyOptions, TypeLevelGrantOptions } from '../options/index.js'

/** Refuses the caller's input: `message` names the field and the rule, `field` is a JSON pointer to it. */
export type Fail = (message: string, field: string) => never

export type ValidationSettings = Pick<EnforcementOptions, 'maxIdLength'> & Pick<PolicyOptions, 'privileges'> & Pick<GrantOptions, 'anonymousPrivileges' | 'canHold'> &
{ readonly typeLevelForbidden: TypeLevelGrantOptions['forbidden'] }

/** `/grants/3/expiresAt` as a message names it: `grants[3].expiresAt`. */
export function fieldName (pointer: string): string {
  return pointer.split('/').slice(1).reduce((name, part) => /^\d+$/.test(part) ? `${name}[${part}]` : name === '' ? part : `${name}.${part}`, '')
}

export interface Validators {
  id: (value: unknown) => value is string
  /** A resource (`id: null`: its type) as a JSON object at `at`; any type, for reads and removals. */
  target: (input: unknown, allowTypeLevel?: boolean, at?: string) => ResourceRef
  /** Refuses a type no grant on which could ever count, naming the nearest known one. */
  knownType: (resource: string, field?: string) => void
  grantee: (grantee: unknown, at?: string) => GranteeRef
  privilege: (privilege: unknown, field?: string) => string
  /**
   * A group and one of its members: a user, or another group (never the
   * group itself). `fields`: where each part was, by default `{ group, member }`.
   */
  membership: (group: unknown, member: unknown, fields?: { group: string, kind: string, id: string }) => { group: string, member: MemberRef }
  /**
   * `startsAt` and `expiresAt` of the object at `at`: a grant must expire in
   * the future (one that never counts is a mistake) and start before it expires.
   */
  schedule: (input: { expiresAt?: unknown, startsAt?: unknown }, at?: string) => { expiresAt: Date | null, startsAt: Date | null }
  /**
   * Who, why and which request: all of it is hashed into the audit trail, so
   * it must come back from PostgreSQL exactly as sent (no NUL, no lone
   * surrogate, bounded length).
   */
  context: (input: { actor: unknown, reason: unknown, requestId: unknown }, reasonField?: string) => WriteContext
  /**
   * Whether the grant may be written at all: its type must be known and,
   * for a type-level grant, not one `typeLevelGrants.forbid` names (the
   * caller's `fail`, at `/id`), and FST_DEFAULT_DENY_INELIGIBLE refuses a grantee who
   * may not hold the privilege.
   */
  eligible: (grantee: GranteeRef, privilege: string, target: ResourceRef) => Promise<void>
}

export function createValidators (settings: ValidationSettings, fail: Fail, types: ResourceTypes): Validators {
  const id = (value: unknown): value is string => isValidId(value, settings.maxIdLength)
  // A missing value is said to be missing; any other is echoed, quoted.
  const refuse = (field: string, rule: string, ...sent: [unknown?]): never =>
    fail(`${fieldName(field)} ${rule}${sent.length === 0 ? '' : sent[0] === undefined ? ' (it is missing)' : ` (got ${quoted(sent[0])})`}`, field)
  const idRule = `must be a non-empty string of at most ${settings.maxIdLength} characters, without NUL, malformed Unicode or a leading byte order mark`
  const mustBeId = (field: string, value: unknown): void => {
    if (!id(value)) refuse(field, idRule, value)
  }
  const instant = (field: string, value: unknown): Date | null => {
    if (value === undefined || value === null) return null
    if (!(value instanceof Date) || !Number.isFinite(value.getTime())) refuse(field, 'must be a valid Date', value)
    return value as Date
  }
  const text = (field: string, value: unknown, max: number): string | null => {
    if (value === undefined || value === null) return null
    if (!isValidText(value, max)) refuse(field, `must be well-formed text of at most ${max} characters without NUL or a leading byte order mark`, value)
    return value as string
  }
  const object = (field: string, value: unknown): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(field, 'must be an object', value)
    return value as Record<string, unknown>
  }
  const knownType = (resource: string, field = '/resource'): void => {
    if (!types.has(resource)) fail(types.refusal(resource, quoted), field)
  }
  return {
    id,
    target (input, allowTypeLevel = true, at = '') {
      const { resource, id: resourceId } = object(at, input)
      mustBeId(`${at}/resource`, resource)
      if (resourceId === null ? !allowTypeLevel : !id(resourceId)) {
        refuse(`${at}/id`, allowTypeLevel ? `${idRule}, or null for the whole type` : idRule, resourceId)
      }
      return { resource: resource as string, id: resourceId as string | null }
    },
    knownType,
    grantee (grantee, at = '/grantee') {
      const { kind, id: granteeId } = object(at, grantee)
      if (kind === 'anonymous') return { kind }
      if (kind !== 'user' && kind !== 'group') return refuse(`${at}/kind`, 'must be one of user, group, anonymous', kind)
      mustBeId(`${at}/id`, granteeId)
      return { kind, id: granteeId as string }
    },
    membership (group, member, fields = { group: '/group', kind: '/member/kind', id: '/member/id' }) {
      mustBeId(fields.group, group)
      const { kind, id: memberId } = object('/member', member)
      if (kind !== 'user' && kind !== 'group') refuse(fields.kind, 'must be one of user, group', kind)
      mustBeId(fields.id, memberId)
      if (kind === 'group' && memberId === group) refuse(fields.id, 'must not be the group itself: a group cannot be a member of itself')
      return { group: group as string, member: { kind, id: memberId } as MemberRef }
    },
    privilege (privilege, field = '/privilege') {
      if (typeof privilege !== 'string' || !settings.privileges.has(privilege)) {
        refuse(field, `must be one of ${[...settings.privileges].join(', ')}`, privilege)
      }
      return privilege as string
    },
    schedule ({ expiresAt, startsAt }, at = '') {
      const expires = instant(`${at}/expiresAt`, expiresAt)
      const starts = instant(`${at}/startsAt`, startsAt)
      if (expires !== null && expires.getTime() <= Date.now()) refuse(`${at}/expiresAt`, 'must be in the future: a grant that has expired never counts', expires.toISOString())
      if (starts !== null && expires !== null && starts.getTime() >= expires.getTime()) {
        refuse(`${at}/startsAt`, `must be before expiresAt (${expires.toISOString()})`, starts.toISOString())
      }
      return { expiresAt: expires, startsAt: starts }
    },
    context ({ actor, reason, requestId }, reasonField = '/reason') {
      if (actor !== undefined && actor !== null) mustBeId('/actor', actor)
      return {
        actor: (actor ?? null) as string | null,
        reason: text(reasonField, reason, MAX_REASON_LENGTH),
        requestId: text('/requestId', requestId, MAX_REQUEST_ID_LENGTH)
      }
    },
    async eligible (grantee, privilege, target) {
      knownType(target.resource)
      if (target.id === null && settings.typeLevelForbidden.has(target.resource)) {
        fail(`id must name one ${quoted(target.resource)}: type-level grants on ${quoted(target.resource)} are forbidden by the typeLevelGrants option (one would count on every ${quoted(target.resource)} of every tenant)`, '/id')
      }
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
