// The grant API's routes for the questions an admin asks across resources:
// which resources of a type there are (browse), what a principal may use and
// through what (access), and the type-level grants of a type. Browse and
// access answer only within what the caller manages (all of it for a
// superuser; a caller's own access is all its own); type-level grants count
// on every resource of a type, so only superusers read or change them.
import type { FastifyRequest } from 'fastify'
import type { GranteeRef, Principal } from '../../fastify-plugin.js'
import { MANAGE, levelAllows } from '../decision/policy.js'
import { groupPrincipal, userPrincipal } from '../decision/principal.js'
import { overrides } from '../decision/rule.js'
import { codes, quoted } from '../errors.js'
import { answer, invalidRequest, SINGLE_BODY_LIMIT, type GrantApp, type GrantRoutesDeps, type RequestInput } from './grant-input.js'
import { documented } from './route-docs.js'
import type { Schemas } from './schemas.js'

const DEFAULT_PAGE = 25
const TRUSTED = { kind: 'trusted' as const }

export function accessRoutes (app: GrantApp, { grants, queries, settings }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, path: inPath, query: inQuery, context, reasonOf } = input
  const config = { permission: 'authenticated' as const }
  const pageSize = (limit: string | undefined) => limit === undefined ? DEFAULT_PAGE : Number(limit)
  const afterOf = (after: string | undefined) => {
    if (after !== undefined && !inQuery.id(after)) invalidRequest(`after must be the next of an earlier page (got ${quoted(after)})`, '/after', 'query')
    return after
  }

  app.get('/resources/:resource', {
    config,
    schema: { ...documented('browseResources'), params: s.typeParams, querystring: s.browseQuery }
  }, async (request) => {
    const { resource } = request.params
    inPath.knownType(resource)
    const { prefix = '', after, limit } = request.query
    if (prefix !== '' && !inQuery.id(prefix)) invalidRequest(`prefix must be text without NUL or malformed Unicode (got ${quoted(prefix)})`, '/prefix', 'query')
    const page = await queries.browse(request.principal as Principal, resource, prefix, afterOf(after) ?? null, pageSize(limit))
    return { resource, prefix, ...page }
  })

  app.get('/access/:resource', {
    config,
    schema: { ...documented('listAccess'), params: s.typeParams, querystring: s.accessQuery }
  }, async (request) => {
    const { resource } = request.params
    inPath.knownType(resource)
    const { query } = request
    const viewer = request.principal as Principal
    const privilege = query.privilege ?? [...settings.privileges][0] as string
    const groups = query.groups === undefined ? [] : Array.isArray(query.groups) ? query.groups : [query.groups]
    let subject: Principal = viewer
    if (query.kind === undefined) {
      if (query.principal !== undefined) invalidRequest('principal needs kind (user or group)', '/kind', 'query')
      if (query.groups !== undefined) invalidRequest('groups needs kind user: your own groups are those of your token', '/groups', 'query')
    } else {
      if (query.principal === undefined) invalidRequest(`principal is required when kind is ${query.kind}`, '/principal', 'query')
      if (!inQuery.id(query.principal)) invalidRequest(`principal must be an id without NUL or malformed Unicode (got ${quoted(query.principal)})`, '/principal', 'query')
      if (query.kind === 'group' && query.groups !== undefined) invalidRequest('groups must be absent when kind is group', '/groups', 'query')
      const bad = groups.findIndex((group) => !inQuery.id(group))
      if (bad >= 0) invalidRequest(`groups must be ids without NUL or malformed Unicode (got ${quoted(groups[bad])})`, `/groups/${bad}`, 'query')
      subject = query.kind === 'group' ? groupPrincipal(query.principal) : userPrincipal(query.principal, groups)
    }
    const page = await queries.access(viewer, subject, resource, privilege, afterOf(query.after) ?? '', pageSize(query.limit), query.kind === 'group')
    return { resource, principal: { kind: query.kind ?? subject.kind, id: query.kind === 'group' ? query.principal : subject.id, groups: [...subject.groups] }, privilege, ...page }
  })

  // Type-level grants: superusers only; a change, like any grant change, at a level that allows manage.
  function mustBeSuperuser (request: FastifyRequest, changing: boolean): void {
    if (!overrides(request.principal as Principal)) throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    if (changing && !levelAllows(settings.levelPrivileges, request.accessLevel, MANAGE)) throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
  }

  app.get('/type-grants/:resource', {
    config,
    schema: { ...documented('listTypeGrants'), params: s.typeParams }
  }, async (request) => {
    mustBeSuperuser(request, false)
    const { resource } = request.params
    inPath.knownType(resource)
    return { resource, grants: (await queries.typeGrants(resource)).map((g) => ({ ...g, source: 'type' as const })) }
  })

  app.post('/type-grants/:resource', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('addTypeGrant'), params: s.typeParams, body: s.typeAddBody }
  }, async (request, reply) => {
    mustBeSuperuser(request, true)
    const { resource } = request.params
    inPath.knownType(resource)
    const target = { resource, id: null }
    const { body } = request
    const grantee = check.grantee(body.grantee)
    const schedule = input.schedule(body)
    await inPath.eligible(grantee, body.privilege, target)
    // The caller is a superuser, who may change anything: the use case runs
    // it as trusted, and the audit entry names the caller.
    const result = answer(reply, await grants.grant(TRUSTED, { target, grantee, privilege: body.privilege, ...schedule }, context(request, body.reason)))
    return reply.code(result.before.includes(body.privilege) ? 200 : 201).send(result)
  })

  // The grantee is in the query: with it in the path, a route shaped like
  // /:resource/:id/grants/anonymous/:privilege would be shadowed for a
  // resource type named type-grants.
  app.delete('/type-grants/:resource/:privilege', {
    config,
    schema: { ...documented('revokeTypeGrant'), params: s.typeRevokeParams, querystring: s.typeRevokeQuery }
  }, async (request, reply) => {
    mustBeSuperuser(request, true)
    const { resource, privilege } = request.params
    if (!check.id(resource)) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    const { kind, principal } = request.query
    let grantee: GranteeRef
    if (kind === 'anonymous') {
      if (principal !== undefined) invalidRequest('principal must be absent when kind is anonymous', '/principal', 'query')
      grantee = { kind: 'anonymous' }
    } else {
      if (principal === undefined) invalidRequest(`principal is required when kind is ${kind}`, '/principal', 'query')
      if (!inQuery.id(principal)) invalidRequest(`principal must be an id without NUL or malformed Unicode (got ${quoted(principal)})`, '/principal', 'query')
      grantee = { kind, id: principal }
    }
    return answer(reply, await grants.revoke(TRUSTED, { target: { resource, id: null }, grantee, privilege }, context(request, reasonOf(request))))
  })
}
