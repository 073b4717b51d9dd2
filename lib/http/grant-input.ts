// What a grant-API request carries, parsed and checked: path ids, grantees,
// expiry instants and the audit context. Malformed input is one generic 400.
import type { FastifyRequest } from 'fastify'
import type { GranteeRef, Principal } from '../../fastify-plugin.js'
import { codes } from '../errors.js'
import type { WriteContext } from '../store/audit.js'
import type { Settings } from '../options.js'
import { queryDecodes } from './query-text.js'
import type { Actor, GrantService, Instance } from '../service/grants.js'
import type { MembershipService } from '../service/members.js'
import type { GrantQueries } from '../service/queries.js'
import { createValidators, type ValidationSettings, type Validators } from '../service/validation.js'

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

// A client's malformed input gets one generic answer: what exactly was wrong
// goes to the log, not back to a possible attacker.
export const invalidRequest = (): never => { throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST() }

export interface GrantRoutesDeps {
  settings: Settings
  grants: GrantService
  members: MembershipService
  queries: GrantQueries
}

/** An ISO 8601 instant with its offset, or null when absent. */
function instant (value: unknown): Date | null {
  if (value === undefined) return null
  const date = new Date(value as string)
  if (typeof value !== 'string' || !ISO_INSTANT.test(value) || !Number.isFinite(date.getTime())) return invalidRequest()
  return date
}

// The revision of the change a request made, once committed: its response carries it.
const revisions = new WeakMap<FastifyRequest, bigint>()

export function committedRevision (request: FastifyRequest): bigint | undefined {
  return revisions.get(request)
}

export interface RequestInput {
  check: Validators
  actorOf: (request: FastifyRequest) => Actor
  context: (request: FastifyRequest, reason: unknown) => WriteContext
  target: (params: unknown) => Instance
  granteeOf: (params: { kind?: string, principal?: string }) => GranteeRef
  /** `expiresAt` (in the future) and `startsAt` (any instant, before `expiresAt`) of a body. */
  schedule: (body: { expiresAt?: unknown, startsAt?: unknown }) => { expiresAt: Date | null, startsAt: Date | null }
  reasonOf: (request: FastifyRequest) => unknown
}

export function requestInput (settings: ValidationSettings): RequestInput {
  const check = createValidators(settings, invalidRequest)
  const expiry = (value: unknown): Date | null => {
    const date = instant(value)
    if (date !== null && date.getTime() <= Date.now()) return invalidRequest()
    return date
  }
  return {
    check,
    actorOf (request) {
      return {
        kind: 'actor',
        principal: request.principal as Principal,
        level: request.accessLevel,
        log: request.log,
        committed: (revision) => { revisions.set(request, revision) }
      }
    },
    // Everything here reaches an audit row and its hash: it must be stored
    // exactly as sent, or the request is refused before anything is written.
    context (request, reason) {
      return check.context({ actor: (request.principal as Principal).id, reason, requestId: String(request.id) })
    },
    target (params) {
      const { resource, id } = params as { resource: string, id: string }
      // Ids that cannot exist (NUL, malformed Unicode) have nothing to manage.
      if (!check.id(resource) || !check.id(id)) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
      return { resource, id }
    },
    granteeOf (params) {
      if (params.kind === undefined) return { kind: 'anonymous' }
      if (!check.id(params.principal)) return invalidRequest()
      return { kind: params.kind as 'user' | 'group', id: params.principal }
    },
    schedule: (body) => check.schedule({ expiresAt: expiry(body.expiresAt), startsAt: instant(body.startsAt) }),
    reasonOf (request) {
      if (!queryDecodes(request.url, 'reason')) return invalidRequest()
      return (request.query as { reason?: string }).reason
    }
  }
}
