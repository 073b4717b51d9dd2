// The grant API's routes for resource hierarchies: set or clear a parent,
// and read a resource's ancestors and children. Reading the tree around a
// resource is for those who may read its grants (its managers); a move is
// judged by the grant use case, which also asks for `manage` on the new
// parent, so nothing is moved into a place its mover does not manage.
import { fromChildCursor } from '../service/queries.js'
import { answer, invalidRequest, SINGLE_BODY_LIMIT, type GrantApp, type GrantRoutesDeps, type RequestInput } from './grant-input.js'
import { documented } from './route-docs.js'
import type { Schemas } from './schemas.js'

const DEFAULT_CHILDREN_PAGE = 100

export function treeRoutes (app: GrantApp, { grants, queries }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, actorOf, context, target, knownTarget } = input
  const config = { permission: 'authenticated' as const }

  app.put('/:resource/:id/parent', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { ...documented('setParent'), params: s.resourceParams, body: s.parentBody }
  }, async (request, reply) => {
    const { body } = request
    // Taking a resource out of its tree is allowed on any type: stale records can be cleaned up.
    const ref = body.parent === null ? target(request.params) : knownTarget(request.params)
    if (body.parent !== null) check.knownType(body.parent.resource, '/parent/resource')
    const parent = body.parent === null ? null : { resource: body.parent.resource, id: body.parent.id }
    const fail = (message: string, field: string): never => invalidRequest(message, field, field === '/resource' ? 'path' : 'body')
    return answer(reply, await grants.setParent(actorOf(request), ref, parent, context(request, body.reason), fail))
  })

  app.get('/:resource/:id/ancestors', {
    config,
    schema: { ...documented('listAncestors'), params: s.resourceParams }
  }, async (request) => {
    const ref = knownTarget(request.params)
    await grants.mustManage(actorOf(request), ref)
    return { ...ref, ancestors: await queries.ancestors(ref) }
  })

  app.get('/:resource/:id/children', {
    config,
    schema: { ...documented('listChildren'), params: s.resourceParams, querystring: s.childrenQuery }
  }, async (request) => {
    const ref = knownTarget(request.params)
    const { after: cursor, limit } = request.query
    const after = cursor === undefined ? null : fromChildCursor(cursor)
    if (cursor !== undefined && after === null) invalidRequest('after must be the next of an earlier page', '/after', 'query')
    await grants.mustManage(actorOf(request), ref)
    return { ...ref, ...await queries.children(ref, after, limit === undefined ? DEFAULT_CHILDREN_PAGE : Number(limit)) }
  })
}

