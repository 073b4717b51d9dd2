// The grant API's changing routes. Each parses what the client sent and
// calls one grant use case on behalf of the verified user.
import type { FastifyReply } from 'fastify'
import type { GranteeRef } from '../../fastify-plugin.js'
import { quoted } from '../errors.js'
import { answer, invalidRequest, SINGLE_BODY_LIMIT, type GrantApp, type GrantRequest, type GrantRoutesDeps, type RequestInput } from './grant-input.js'
import { documented } from './route-docs.js'
import type { Received, Schemas } from './schemas.js'

const BULK_BODY_LIMIT = 1024 * 1024

/** Changes to one grantee's privileges on one resource. */
export function grantChangeRoutes (app: GrantApp, { grants }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, actorOf, context, target, knownTarget, granteeOf, reasonOf } = input
  const config = { permission: 'authenticated' as const }

  app.post('/:resource/:id/grants', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('addGrant'), params: s.resourceParams, body: s.addBody }
  }, async (request, reply) => {
    const ref = knownTarget(request.params)
    const { body } = request
    const grantee = check.grantee(body.grantee)
    const schedule = input.schedule(body)
    const result = answer(reply, await grants.grant(actorOf(request), { target: ref, grantee, privilege: body.privilege, ...schedule }, context(request, body.reason)))
    return reply.code(result.before.includes(body.privilege) ? 200 : 201).send(result)
  })

  async function revoke (request: GrantRequest<{ params: Received<'resourceParams'>, query: Received<'reasonQuery'> }>, reply: FastifyReply, grantee: GranteeRef, privilege: string) {
    const ref = target(request.params)
    return answer(reply, await grants.revoke(actorOf(request), { target: ref, grantee, privilege }, context(request, reasonOf(request))))
  }

  app.delete('/:resource/:id/grants/:kind/:principal/:privilege', {
    config,
    schema: { ...documented('revokeGrant'), params: s.revokeParams, querystring: s.reasonQuery }
  }, async (request, reply) => {
    const { params } = request
    return await revoke(request, reply, granteeOf(params), params.privilege)
  })

  app.delete('/:resource/:id/grants/anonymous/:privilege', {
    config,
    schema: { ...documented('revokeAnonymousGrant'), params: s.revokeAnonymousParams, querystring: s.reasonQuery }
  }, async (request, reply) => await revoke(request, reply, { kind: 'anonymous' }, request.params.privilege))

  async function replaceOne (request: GrantRequest<{ params: Received<'resourceParams'>, body: Received<'replaceOneBody'> }>, reply: FastifyReply, grantee: GranteeRef) {
    const { body } = request
    // Taking every privilege away is allowed on any type: stale grants can be cleaned up.
    const ref = body.privileges.length > 0 ? knownTarget(request.params) : target(request.params)
    const schedule = input.schedule(body)
    return answer(reply, await grants.replace(actorOf(request), { target: ref, grantee, privileges: body.privileges, ...schedule }, context(request, body.reason)))
  }

  app.put('/:resource/:id/grantees/:kind/:principal', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('setGranteePrivileges'), params: s.granteeParams, body: s.replaceOneBody }
  }, async (request, reply) => await replaceOne(request, reply, granteeOf(request.params)))

  app.put('/:resource/:id/grantees/anonymous', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('setAnonymousPrivileges'), params: s.anonymousParams, body: s.replaceOneBody }
  }, async (request, reply) => await replaceOne(request, reply, { kind: 'anonymous' }))

  async function revokeAll (request: GrantRequest<{ params: Received<'resourceParams'>, query: Received<'reasonQuery'> }>, reply: FastifyReply, grantee: GranteeRef) {
    const ref = target(request.params)
    return answer(reply, await grants.revokeAll(actorOf(request), { target: ref, grantee }, context(request, reasonOf(request))))
  }

  app.delete('/:resource/:id/grantees/:kind/:principal', {
    config,
    schema: { ...documented('revokeGrantee'), params: s.granteeParams, querystring: s.reasonQuery }
  }, async (request, reply) => await revokeAll(request, reply, granteeOf(request.params)))

  app.delete('/:resource/:id/grantees/anonymous', {
    config,
    schema: { ...documented('revokeAnonymous'), params: s.anonymousParams, querystring: s.reasonQuery }
  }, async (request, reply) => await revokeAll(request, reply, { kind: 'anonymous' }))
}

/** Changes to a resource's whole set of grants, to many resources at once, and to its owner. */
export function grantSetRoutes (app: GrantApp, { grants }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, actorOf, context, target, knownTarget } = input
  const config = { permission: 'authenticated' as const }

  app.put('/:resource/:id/grants', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { ...documented('replaceGrants'), params: s.resourceParams, body: s.replaceAllBody }
  }, async (request, reply) => {
    const { body } = request
    const ref = body.grants.length > 0 ? knownTarget(request.params) : target(request.params)
    const ctx = context(request, body.reason)
    const items = body.grants.map((item, i) => ({ grantee: check.grantee(item.grantee, `/grants/${i}/grantee`), privilege: item.privilege, ...input.schedule(item, `/grants/${i}`) }))
    return { changes: answer(reply, await grants.replaceAll(actorOf(request), ref, items, ctx)) }
  })

  app.post('/bulk', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { ...documented('bulkChangeGrants'), body: s.bulkBody }
  }, async (request, reply) => {
    const { body } = request
    const toGrant = (body.grant ?? []).map((item, i) => {
      check.knownType(item.resource, `/grant/${i}/resource`)
      return { target: target(item), grantee: check.grantee(item.grantee, `/grant/${i}/grantee`), privilege: item.privilege, ...input.schedule(item, `/grant/${i}`) }
    })
    const toRevoke = (body.revoke ?? []).map((item, i) => ({ target: target(item), grantee: check.grantee(item.grantee, `/revoke/${i}/grantee`), privilege: item.privilege }))
    return { changes: answer(reply, await grants.bulk(actorOf(request), toGrant, toRevoke, context(request, body.reason))) }
  })

  app.put('/:resource/:id/owner', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('setOwner'), params: s.resourceParams, body: s.ownerBody }
  }, async (request, reply) => {
    const { body } = request
    // Clearing the owner is allowed on any type: stale records can be cleaned up.
    const ref = body.owner === null ? target(request.params) : knownTarget(request.params)
    if (body.owner !== null && !check.id(body.owner)) invalidRequest(`owner must be an id without NUL or malformed Unicode, or null (got ${quoted(body.owner)})`, '/owner')
    return answer(reply, await grants.setOwner(actorOf(request), ref, body.owner, context(request, body.reason)))
  })
}
