// The grant API's reading routes: a resource's grants, explain, and the
// audit trail. A resource's grants are shown to those who may change them.
import type { FastifyRequest } from 'fastify'
import type { GranteeRef, Principal } from '../../fastify-plugin.js'
import { isSeq } from '../decision/ids.js'
import { ANONYMOUS, userPrincipal } from '../decision/principal.js'
import { overrides } from '../decision/rule.js'
import { codes, quoted } from '../errors.js'
import { invalidRequest, type GrantApp, type GrantRoutesDeps, type RequestInput } from './grant-input.js'
import { documented } from './route-docs.js'
import type { Received, Schemas } from './schemas.js'

const DEFAULT_AUDIT_PAGE = 50

export function grantReadRoutes (app: GrantApp, { grants, queries }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { actorOf, target, knownTarget, query: inQuery } = input
  const config = { permission: 'authenticated' as const }

  app.get('/:resource/:id/grants', {
    config,
    schema: { ...documented('listGrants'), params: s.resourceParams }
  }, async (request) => {
    const ref = knownTarget(request.params)
    await grants.mustManage(actorOf(request), ref)
    return { resource: ref.resource, id: ref.id, ...await queries.managedGrants(ref) }
  })

  app.get('/:resource/:id/explain', {
    config,
    schema: { ...documented('explainAccess'), params: s.resourceParams, querystring: s.explainQuery }
  }, async (request) => {
    const ref = knownTarget(request.params)
    await grants.mustManage(actorOf(request), ref)
    const { query } = request
    let principal: Principal
    if (query.kind === 'anonymous') {
      if (query.principal !== undefined) invalidRequest('principal must be absent when kind is anonymous', '/principal', 'query')
      if (query.groups !== undefined) invalidRequest('groups must be absent when kind is anonymous', '/groups', 'query')
      principal = ANONYMOUS
    } else {
      const groups = query.groups === undefined ? [] : Array.isArray(query.groups) ? query.groups : [query.groups]
      if (query.principal === undefined) invalidRequest('principal is required when kind is user', '/principal', 'query')
      if (!inQuery.id(query.principal)) invalidRequest(`principal must be an id without NUL or malformed Unicode (got ${quoted(query.principal)})`, '/principal', 'query')
      const bad = groups.findIndex((group) => !inQuery.id(group))
      if (bad >= 0) invalidRequest(`groups must be ids without NUL or malformed Unicode (got ${quoted(groups[bad])})`, `/groups/${bad}`, 'query')
      principal = userPrincipal(query.principal, groups)
    }
    const explanation = await queries.explain(principal, ref, query.privilege ?? null)
    return { principal: { kind: principal.kind, id: principal.id, groups: principal.groups }, ...explanation }
  })

  function auditFilter (query: Received<'auditQuery'>) {
    let grantee: GranteeRef | undefined
    if (query.kind !== undefined) {
      if (query.kind === 'anonymous') {
        grantee = { kind: 'anonymous' }
      } else {
        if (query.principal === undefined) invalidRequest(`principal is required when kind is ${query.kind}`, '/principal', 'query')
        if (!inQuery.id(query.principal)) invalidRequest(`principal must be an id without NUL or malformed Unicode (got ${quoted(query.principal)})`, '/principal', 'query')
        grantee = { kind: query.kind, id: query.principal }
      }
    } else if (query.principal !== undefined) invalidRequest('principal needs kind (user, group or anonymous)', '/kind', 'query')
    // The schema's pattern admits 19 digits; past the bigint range is no entry.
    if (query.before !== undefined && !isSeq(query.before)) invalidRequest(`before must be the next of an earlier page (got ${quoted(query.before)})`, '/before', 'query')
    return { limit: query.limit === undefined ? DEFAULT_AUDIT_PAGE : Number(query.limit), before: query.before, grantee }
  }

  function mustBeSuperuser (request: FastifyRequest): void {
    if (!overrides(request.principal as Principal)) throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
  }

  app.get('/:resource/:id/audit', {
    config,
    schema: { ...documented('listResourceAudit'), params: s.resourceParams, querystring: s.auditQuery }
  }, async (request) => {
    const ref = target(request.params)
    await grants.mustManage(actorOf(request), ref)
    return await queries.auditPage({ ...auditFilter(request.query), resource: ref })
  })

  app.get('/audit', {
    config,
    schema: { ...documented('listAudit'), querystring: s.auditQuery }
  }, async (request) => {
    mustBeSuperuser(request)
    return await queries.auditPage(auditFilter(request.query))
  })

  app.get('/audit/verify', {
    config,
    schema: documented('verifyAudit')
  }, async (request) => {
    mustBeSuperuser(request)
    return await queries.verifyAudit()
  })
}
