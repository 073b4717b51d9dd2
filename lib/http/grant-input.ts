// What a grant-API request carries, parsed and checked: path ids, grantees,
// expiry instants and the audit context. Malformed input is a 400 that names
// the field and the rule (the service's validation, answered with HTTP's code).
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { GranteeRef, Principal } from '../../fastify-plugin.js'
import type { ResourceTypes } from '../decision/resource-types.js'
import { codes, invalidInput, quoted, type InputLocation } from '../errors.js'
import type { WriteContext } from '../store/audit.js'
import type { GrantRoutesOptions, LevelOptions, StepUpPolicy } from '../options/index.js'
import { queryDecodes } from './query-text.js'
import { parseInstant } from '../decision/instant.js'
import { formatRevision, REVISION_HEADER } from '../revision.js'
import type { Actor, GrantService, Instance, Outcome } from '../service/grants.js'
import type { MembershipService } from '../service/members.js'
import type { GrantQueries } from '../service/queries.js'
import { createValidators, type ValidationSettings, type Validators } from '../service/validation.js'
import type { Received } from './schemas.js'

/** The largest body of a change to one resource (a bulk change has its own, larger limit). */
export const SINGLE_BODY_LIMIT = 64 * 1024

/** The grant API's scope: what a handler receives is typed by the route's schemas. */
export type GrantApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>
/** A request of the grant API, with the parts its route's schemas admit. */
export type GrantRequest<T> = FastifyRequest & T

/** The refusal of a client's input: `field` a JSON pointer into the part of the request it came from. */
export function invalidRequest (message: string, field: string, where: NonNullable<InputLocation['in']> = 'body'): never {
  throw invalidInput(new codes.FST_DEFAULT_DENY_INVALID_REQUEST(message), { field, in: where })
}

export interface GrantRoutesDeps {
  settings: ValidationSettings & { readonly grantRoutes: GrantRoutesOptions | null, readonly stepUp: StepUpPolicy | null, readonly levelPrivileges: LevelOptions['levelPrivileges'] }
  grants: GrantService
  members: MembershipService
  queries: GrantQueries
  /** The resource types grants may name. */
  types: ResourceTypes
  /** The `hierarchy` option is on: the routes for parents, ancestors and children exist. */
  hierarchy: boolean
}

/** An ISO 8601 instant with its offset, or null when absent. */
function instant (value: unknown, field: string): Date | null {
  if (value === undefined) return null
  const date = typeof value === 'string' ? parseInstant(value, { dateOnly: false }) : null
  if (date === null) {
    return invalidRequest(`${field.slice(field.lastIndexOf('/') + 1)} must be an ISO 8601 instant with its offset, such as 2027-01-31T12:00:00Z (got ${quoted(value)})`, field)
  }
  return date
}

/** A change's answer: its response says how fresh a later request must demand to see it. */
export function answer<T> (reply: FastifyReply, { result, revision }: Outcome<T>): T {
  if (revision !== null) reply.header(REVISION_HEADER, formatRevision(revision))
  return result
}

export interface RequestInput {
  check: Validators
  /** The same checks, for values of the query string and of the path. */
  query: Validators
  path: Validators
  actorOf: (request: FastifyRequest) => Actor
  context: (request: FastifyRequest, reason: unknown) => WriteContext
  target: (params: { resource: string, id: string }) => Instance
  /** `target`, on a type a grant may name: for what adds a grant or an owner, and for decisions. */
  knownTarget: (params: { resource: string, id: string }) => Instance
  granteeOf: (params: { kind?: 'user' | 'group', principal?: string }) => GranteeRef
  /** `expiresAt` (in the future) and `startsAt` (any instant, before `expiresAt`) of the body's object at `at`. */
  schedule: (body: { expiresAt?: unknown, startsAt?: unknown }, at?: string) => { expiresAt: Date | null, startsAt: Date | null }
  reasonOf: (request: GrantRequest<{ query: Received<'reasonQuery'> }>) => unknown
}

export function requestInput (settings: ValidationSettings, types: ResourceTypes): RequestInput {
  const check = createValidators(settings, (message, field) => invalidRequest(message, field, 'body'), types)
  const inPath = createValidators(settings, (message, field) => invalidRequest(message, field, 'path'), types)
  const inQuery = createValidators(settings, (message, field) => invalidRequest(message, field, 'query'), types)
  const target = ({ resource, id }: { resource: string, id: string }): Instance => {
    // Ids that cannot exist (NUL, malformed Unicode) have nothing to manage.
    if (!check.id(resource) || !check.id(id)) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    return { resource, id }
  }
  return {
    check,
    query: inQuery,
    path: inPath,
    actorOf (request) {
      return {
        kind: 'actor',
        principal: request.principal as Principal,
        level: request.accessLevel,
        log: request.log
      }
    },
    // Everything here reaches an audit row and its hash: it must be stored
    // exactly as sent, or the request is refused before anything is written.
    context (request, reason) {
      const body = request.body
      const inBody = typeof body === 'object' && body !== null && 'reason' in body
      return (inBody ? check : inQuery).context({ actor: (request.principal as Principal).id, reason, requestId: String(request.id) })
    },
    target,
    knownTarget (params) {
      const ref = target(params)
      inPath.knownType(ref.resource)
      return ref
    },
    granteeOf (params) {
      if (params.kind === undefined) return { kind: 'anonymous' }
      if (!check.id(params.principal)) return invalidRequest(`principal must be an id without NUL or malformed Unicode (got ${quoted(params.principal)})`, '/principal', 'path')
      return { kind: params.kind, id: params.principal }
    },
    schedule: (body, at = '') => check.schedule({ expiresAt: instant(body.expiresAt, `${at}/expiresAt`), startsAt: instant(body.startsAt, `${at}/startsAt`) }, at),
    reasonOf (request) {
      if (!queryDecodes(request.url, 'reason')) return invalidRequest('reason must be percent-encoded UTF-8', '/reason', 'query')
      return request.query.reason
    }
  }
}
