// The grant-management HTTP API: parses and checks what a client sent, then
// calls the grant use cases on behalf of the verified user. Every route needs
// a verified user; who may do what is decided by the use cases.
import { STATUS_CODES } from 'node:http'
import { Ajv } from 'ajv'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { GranteeRef, Principal } from '../../fastify-plugin.js'
import { isSeq, MAX_REASON_LENGTH } from '../decision/ids.js'
import { ANONYMOUS, userPrincipal } from '../decision/principal.js'
import { codes } from '../errors.js'
import type { Settings } from '../options.js'
import type { WriteContext } from '../store/audit.js'
import type { Actor, GrantService, Instance } from '../service/grants.js'
import type { GrantQueries } from '../service/queries.js'
import { createValidators } from '../service/validation.js'
import { buildSchemas, errorResponses } from './schemas.js'

export interface GrantRoutesDeps {
  settings: Settings
  grants: GrantService
  queries: GrantQueries
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
const SINGLE_BODY_LIMIT = 64 * 1024
const BULK_BODY_LIMIT = 1024 * 1024
const DEFAULT_AUDIT_PAGE = 50

// A client's malformed input gets one generic answer: what exactly was wrong
// goes to the log, not back to a possible attacker.
const invalidRequest = (): never => { throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST() }

export const grantRoutes: FastifyPluginAsync<GrantRoutesDeps> = async (app, { settings, grants, queries }) => {
  // No coercion: `["read"]`, 123, null or true are not a privilege.
  const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false })
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema))

  app.setErrorHandler((err: Error & { code?: string, statusCode?: number, validation?: unknown }, request, reply) => {
    if (err.validation !== undefined) {
      request.log.info({ validation: err.message }, 'fastify-default-deny: invalid grant request')
      return reply.send(new codes.FST_DEFAULT_DENY_INVALID_REQUEST())
    }
    if (typeof err.code === 'string' && err.code.startsWith('FST_DEFAULT_DENY_')) return reply.send(err)
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors (malformed JSON, body too large, media type).
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode], message: 'Invalid request body' })
    }
    // Anything else is ours or the database's: fail closed, say nothing.
    request.log.error({ err }, 'fastify-default-deny: grant request failed')
    return reply.send(new codes.FST_DEFAULT_DENY_UNAVAILABLE())
  })

  const s = buildSchemas(settings)
  const config = { permission: 'authenticated' as const }
  const check = createValidators(settings, invalidRequest)
  const reasonQuery = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: MAX_REASON_LENGTH } } }

  function actorOf (request: FastifyRequest): Actor {
    return { kind: 'actor', principal: request.principal as Principal, level: request.accessLevel, log: request.log }
  }

  // Everything here reaches an audit row and its hash: it must be stored
  // exactly as sent, or the request is refused before anything is written.
  function context (request: FastifyRequest, reason: unknown): WriteContext {
    return check.context({ actor: (request.principal as Principal).id, reason, requestId: String(request.id) })
  }

  function target (params: unknown): Instance {
    const { resource, id } = params as { resource: string, id: string }
    // Ids that cannot exist (NUL, malformed Unicode) have nothing to manage.
    if (!check.id(resource) || !check.id(id)) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    return { resource, id }
  }

  function granteeOf (params: { kind?: string, principal?: string }): GranteeRef {
    if (params.kind === undefined) return { kind: 'anonymous' }
    if (!check.id(params.principal)) return invalidRequest()
    return { kind: params.kind as 'user' | 'group', id: params.principal }
  }

  function expiry (value: unknown): Date | null {
    if (value === undefined) return null
    const date = new Date(value as string)
    if (typeof value !== 'string' || !ISO_INSTANT.test(value) || !Number.isFinite(date.getTime()) || date.getTime() <= Date.now()) {
      return invalidRequest()
    }
    return date
  }

  const reasonOf = (request: FastifyRequest) => (request.query as { reason?: string }).reason

  // ---- reading ----

  app.get('/:resource/:id/grants', {
    config,
    schema: { params: s.resourceParams, response: { 200: s.listResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    await grants.mustManage(actorOf(request), ref)
    return { resource: ref.resource, id: ref.id, ...await queries.managedGrants(ref) }
  })

  app.get('/:resource/:id/explain', {
    config,
    schema: { params: s.resourceParams, querystring: s.explainQuery, response: { 200: s.explainResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    await grants.mustManage(actorOf(request), ref)
    const query = request.query as { kind: 'user' | 'anonymous', principal?: string, groups?: string | string[], privilege?: string }
    let principal: Principal
    if (query.kind === 'anonymous') {
      if (query.principal !== undefined || query.groups !== undefined) invalidRequest()
      principal = ANONYMOUS
    } else {
      const groups = query.groups === undefined ? [] : Array.isArray(query.groups) ? query.groups : [query.groups]
      if (!check.id(query.principal) || !groups.every(check.id)) invalidRequest()
      principal = userPrincipal(query.principal as string, groups)
    }
    const explanation = await queries.explain(principal, ref, query.privilege ?? null)
    return { principal: { kind: principal.kind, id: principal.id, groups: principal.groups }, ...explanation }
  })

  function auditFilter (query: { limit?: string, before?: string, kind?: string, principal?: string }) {
    let grantee: GranteeRef | undefined
    if (query.kind !== undefined) grantee = check.grantee(query.kind === 'anonymous' ? { kind: 'anonymous' } : { kind: query.kind, id: query.principal })
    else if (query.principal !== undefined) invalidRequest()
    // The schema's pattern admits 19 digits; past the bigint range is no entry.
    if (query.before !== undefined && !isSeq(query.before)) invalidRequest()
    return { limit: query.limit === undefined ? DEFAULT_AUDIT_PAGE : Number(query.limit), before: query.before, grantee }
  }

  function mustBeSuperuser (request: FastifyRequest): void {
    if (!(request.principal as Principal).superuser) throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
  }

  app.get('/:resource/:id/audit', {
    config,
    schema: { params: s.resourceParams, querystring: s.auditQuery, response: { 200: s.auditResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    await grants.mustManage(actorOf(request), ref)
    return await queries.auditPage({ ...auditFilter(request.query as never), resource: ref })
  })

  app.get('/audit', {
    config,
    schema: { querystring: s.auditQuery, response: { 200: s.auditResponse, ...errorResponses } }
  }, async (request) => {
    mustBeSuperuser(request)
    return await queries.auditPage(auditFilter(request.query as never))
  })

  app.get('/audit/verify', {
    config,
    schema: { response: { 200: s.verifyResponse, ...errorResponses } }
  }, async (request) => {
    mustBeSuperuser(request)
    return await queries.verifyAudit()
  })

  // ---- changing ----

  app.post('/:resource/:id/grants', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.resourceParams, body: s.addBody, response: { 200: s.changeResponse, 201: s.changeResponse, ...errorResponses } }
  }, async (request, reply) => {
    const ref = target(request.params)
    const body = request.body as { grantee: unknown, privilege: string, expiresAt?: string, reason?: string }
    const grantee = check.grantee(body.grantee)
    const expiresAt = expiry(body.expiresAt)
    const result = await grants.grant(actorOf(request), { target: ref, grantee, privilege: body.privilege, expiresAt }, context(request, body.reason))
    return reply.code(result.before.includes(body.privilege) ? 200 : 201).send(result)
  })

  async function revoke (request: FastifyRequest, grantee: GranteeRef, privilege: string) {
    const ref = target(request.params)
    return await grants.revoke(actorOf(request), { target: ref, grantee, privilege }, context(request, reasonOf(request)))
  }

  app.delete('/:resource/:id/grants/:kind/:principal/:privilege', {
    config,
    schema: { params: s.revokeParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => {
    const params = request.params as { kind: string, principal: string, privilege: string }
    return await revoke(request, granteeOf(params), params.privilege)
  })

  app.delete('/:resource/:id/grants/anonymous/:privilege', {
    config,
    schema: { params: s.revokeAnonymousParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => await revoke(request, { kind: 'anonymous' }, (request.params as { privilege: string }).privilege))

  async function replaceOne (request: FastifyRequest, grantee: GranteeRef) {
    const ref = target(request.params)
    const body = request.body as { privileges: string[], expiresAt?: string, reason?: string }
    const expiresAt = expiry(body.expiresAt)
    return await grants.replace(actorOf(request), { target: ref, grantee, privileges: body.privileges, expiresAt }, context(request, body.reason))
  }

  app.put('/:resource/:id/grantees/:kind/:principal', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.granteeParams, body: s.replaceOneBody, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => await replaceOne(request, granteeOf(request.params as never)))

  app.put('/:resource/:id/grantees/anonymous', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.anonymousParams, body: s.replaceOneBody, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => await replaceOne(request, { kind: 'anonymous' }))

  async function revokeAll (request: FastifyRequest, grantee: GranteeRef) {
    const ref = target(request.params)
    return await grants.revokeAll(actorOf(request), { target: ref, grantee }, context(request, reasonOf(request)))
  }

  app.delete('/:resource/:id/grantees/:kind/:principal', {
    config,
    schema: { params: s.granteeParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => await revokeAll(request, granteeOf(request.params as never)))

  app.delete('/:resource/:id/grantees/anonymous', {
    config,
    schema: { params: s.anonymousParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => await revokeAll(request, { kind: 'anonymous' }))

  app.put('/:resource/:id/grants', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { params: s.resourceParams, body: s.replaceAllBody, response: { 200: s.changesResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    const body = request.body as { grants: Array<{ grantee: unknown, privilege: string, expiresAt?: string }>, reason?: string }
    const ctx = context(request, body.reason)
    const items = body.grants.map((item) => ({ grantee: check.grantee(item.grantee), privilege: item.privilege, expiresAt: expiry(item.expiresAt) }))
    return { changes: await grants.replaceAll(actorOf(request), ref, items, ctx) }
  })

  app.post('/bulk', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { body: s.bulkBody, response: { 200: s.changesResponse, ...errorResponses } }
  }, async (request) => {
    const body = request.body as {
      grant?: Array<{ resource: string, id: string, grantee: unknown, privilege: string, expiresAt?: string }>
      revoke?: Array<{ resource: string, id: string, grantee: unknown, privilege: string }>
      reason?: string
    }
    const toGrant = (body.grant ?? []).map((item) => ({
      target: target(item), grantee: check.grantee(item.grantee), privilege: item.privilege, expiresAt: expiry(item.expiresAt)
    }))
    const toRevoke = (body.revoke ?? []).map((item) => ({ target: target(item), grantee: check.grantee(item.grantee), privilege: item.privilege }))
    return { changes: await grants.bulk(actorOf(request), toGrant, toRevoke, context(request, body.reason)) }
  })

  app.put('/:resource/:id/owner', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.resourceParams, body: s.ownerBody, response: { 200: s.ownerResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    const body = request.body as { owner: string | null, reason?: string }
    if (body.owner !== null && !check.id(body.owner)) invalidRequest()
    return await grants.setOwner(actorOf(request), ref, body.owner, context(request, body.reason))
  })
}
