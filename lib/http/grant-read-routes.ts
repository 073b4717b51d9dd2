// The grant API's reading routes: a resource's grants, explain, and the
// audit trail. A resource's grants are shown to those who may change them.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GranteeRef, Principal } from '../../fastify-plugin.js'
import { isSeq } from '../decision/ids.js'
import { ANONYMOUS, userPrincipal } from '../decision/principal.js'
import { codes } from '../errors.js'
import { invalidRequest, type GrantRoutesDeps, type RequestInput } from './grant-input.js'
import { documented } from './route-docs.js'
import type { Schemas } from './schemas.js'

const DEFAULT_AUDIT_PAGE = 50

export function grantReadRoutes (app: FastifyInstance, { grants, queries }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, actorOf, target } = input
  const config = { permission: 'authenticated' as const }

  app.get('/:resource/:id/grants', {
    config,
    schema: { ...documented('listGrants'), params: s.resourceParams }
  }, async (request) => {
    const ref = target(request.params)
    await grants.mustManage(actorOf(request), ref)
    return { resource: ref.resource, id: ref.id, ...await queries.managedGrants(ref) }
  })

  app.get('/:resource/:id/explain', {
    config,
    schema: { ...documented('explainAccess'), params: s.resourceParams, querystring: s.explainQuery }
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
    schema: { ...documented('listResourceAudit'), params: s.resourceParams, querystring: s.auditQuery }
  }, async (request) => {
    const ref = target(request.params)
    await grants.mustManage(actorOf(request), ref)
    return await queries.auditPage({ ...auditFilter(request.query as never), resource: ref })
  })

  app.get('/audit', {
    config,
    schema: { ...documented('listAudit'), querystring: s.auditQuery }
  }, async (request) => {
    mustBeSuperuser(request)
    return await queries.auditPage(auditFilter(request.query as never))
  })

  app.get('/audit/verify', {
    config,
    schema: documented('verifyAudit')
  }, async (request) => {
    mustBeSuperuser(request)
    return await queries.verifyAudit()
  })
}
