// The grant API's changing routes. Each parses what the client sent and
// calls one grant use case on behalf of the verified user.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GranteeRef } from '../../fastify-plugin.js'
import { quoted } from '../errors.js'
import { invalidRequest, type GrantRoutesDeps, type RequestInput } from './grant-input.js'
import { documented } from './route-docs.js'
import type { Schemas } from './schemas.js'

const SINGLE_BODY_LIMIT = 64 * 1024
const BULK_BODY_LIMIT = 1024 * 1024

/** Changes to one grantee's privileges on one resource. */
export function grantChangeRoutes (app: FastifyInstance, { grants }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, actorOf, context, target, knownTarget, granteeOf, reasonOf } = input
  const config = { permission: 'authenticated' as const }

  app.post('/:resource/:id/grants', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('addGrant'), params: s.resourceParams, body: s.addBody }
  }, async (request, reply) => {
    const ref = knownTarget(request.params)
    const body = request.body as { grantee: unknown, privilege: string, expiresAt?: string, startsAt?: string, reason?: string }
    const grantee = check.grantee(body.grantee)
    const schedule = input.schedule(body)
    const result = await grants.grant(actorOf(request), { target: ref, grantee, privilege: body.privilege, ...schedule }, context(request, body.reason))
    return reply.code(result.before.includes(body.privilege) ? 200 : 201).send(result)
  })

  async function revoke (request: FastifyRequest, grantee: GranteeRef, privilege: string) {
    const ref = target(request.params)
    return await grants.revoke(actorOf(request), { target: ref, grantee, privilege }, context(request, reasonOf(request)))
  }

  app.delete('/:resource/:id/grants/:kind/:principal/:privilege', {
    config,
    schema: { ...documented('revokeGrant'), params: s.revokeParams, querystring: s.reasonQuery }
  }, async (request) => {
    const params = request.params as { kind: string, principal: string, privilege: string }
    return await revoke(request, granteeOf(params), params.privilege)
  })

  app.delete('/:resource/:id/grants/anonymous/:privilege', {
    config,
    schema: { ...documented('revokeAnonymousGrant'), params: s.revokeAnonymousParams, querystring: s.reasonQuery }
  }, async (request) => await revoke(request, { kind: 'anonymous' }, (request.params as { privilege: string }).privilege))

  async function replaceOne (request: FastifyRequest, grantee: GranteeRef) {
    const body = request.body as { privileges: string[], expiresAt?: string, startsAt?: string, reason?: string }
    // Taking every privilege away is allowed on any type: stale grants can be cleaned up.
    const ref = body.privileges.length > 0 ? knownTarget(request.params) : target(request.params)
    const schedule = input.schedule(body)
    return await grants.replace(actorOf(request), { target: ref, grantee, privileges: body.privileges, ...schedule }, context(request, body.reason))
  }

  app.put('/:resource/:id/grantees/:kind/:principal', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('setGranteePrivileges'), params: s.granteeParams, body: s.replaceOneBody }
  }, async (request) => await replaceOne(request, granteeOf(request.params as never)))

  app.put('/:resource/:id/grantees/anonymous', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('setAnonymousPrivileges'), params: s.anonymousParams, body: s.replaceOneBody }
  }, async (request) => await replaceOne(request, { kind: 'anonymous' }))

  async function revokeAll (request: FastifyRequest, grantee: GranteeRef) {
    const ref = target(request.params)
    return await grants.revokeAll(actorOf(request), { target: ref, grantee }, context(request, reasonOf(request)))
  }

  app.delete('/:resource/:id/grantees/:kind/:principal', {
    config,
    schema: { ...documented('revokeGrantee'), params: s.granteeParams, querystring: s.reasonQuery }
  }, async (request) => await revokeAll(request, granteeOf(request.params as never)))

  app.delete('/:resource/:id/grantees/anonymous', {
    config,
    schema: { ...documented('revokeAnonymous'), params: s.anonymousParams, querystring: s.reasonQuery }
  }, async (request) => await revokeAll(request, { kind: 'anonymous' }))
}

/** Changes to a resource's whole set of grants, to many resources at once, and to its owner. */
export function grantSetRoutes (app: FastifyInstance, { grants }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, actorOf, context, target, knownTarget } = input
  const config = { permission: 'authenticated' as const }

  app.put('/:resource/:id/grants', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { ...documented('replaceGrants'), params: s.resourceParams, body: s.replaceAllBody }
  }, async (request) => {
    const body = request.body as { grants: Array<{ grantee: unknown, privilege: string, expiresAt?: string, startsAt?: string }>, reason?: string }
    const ref = body.grants.length > 0 ? knownTarget(request.params) : target(request.params)
    const ctx = context(request, body.reason)
    const items = body.grants.map((item, i) => ({ grantee: check.grantee(item.grantee, `/grants/${i}/grantee`), privilege: item.privilege, ...input.schedule(item, `/grants/${i}`) }))
    return { changes: await grants.replaceAll(actorOf(request), ref, items, ctx) }
  })

  app.post('/bulk', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { ...documented('bulkChangeGrants'), body: s.bulkBody }
  }, async (request) => {
    const body = request.body as {
      grant?: Array<{ resource: string, id: string, grantee: unknown, privilege: string, expiresAt?: string, startsAt?: string }>
      revoke?: Array<{ resource: string, id: string, grantee: unknown, privilege: string }>
      reason?: string
    }
    const toGrant = (body.grant ?? []).map((item, i) => {
      check.knownType(item.resource, `/grant/${i}/resource`)
      return { target: target(item), grantee: check.grantee(item.grantee, `/grant/${i}/grantee`), privilege: item.privilege, ...input.schedule(item, `/grant/${i}`) }
    })
    const toRevoke = (body.revoke ?? []).map((item, i) => ({ target: target(item), grantee: check.grantee(item.grantee, `/revoke/${i}/grantee`), privilege: item.privilege }))
    return { changes: await grants.bulk(actorOf(request), toGrant, toRevoke, context(request, body.reason)) }
  })

  app.put('/:resource/:id/owner', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('setOwner'), params: s.resourceParams, body: s.ownerBody }
  }, async (request) => {
    const body = request.body as { owner: string | null, reason?: string }
    // Clearing the owner is allowed on any type: stale records can be cleaned up.
    const ref = body.owner === null ? target(request.params) : knownTarget(request.params)
    if (body.owner !== null && !check.id(body.owner)) invalidRequest(`owner must be an id without NUL or malformed Unicode, or null (got ${quoted(body.owner)})`, '/owner')
    return await grants.setOwner(actorOf(request), ref, body.owner, context(request, body.reason))
  })
}
