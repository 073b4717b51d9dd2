// The grant API's OpenAPI document, as @fastify/swagger builds it for a host:
// valid OpenAPI 3, every operation tagged, summarised, named and secured by
// the bearer scheme, shared schemas emitted once and referenced, and each
// route listing the refusals it can really give.
import t from 'tap'
import jwt from '@fastify/jwt'
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import { Validator } from '@seriousme/openapi-schema-validator'
import Fastify from 'fastify'
import defaultDeny from '../../lib/index.js'
import { SECRET, testDatabase } from '../helper.js'
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'

const PREFIX = 'fastify-default-deny.'
const bearerAuth = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } as const
const namedById: FastifyDynamicSwaggerOptions['refResolver'] = {
  buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
}

interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  description?: string
  security?: Array<Record<string, string[]>>
  responses: Record<string, { description: string, content?: Record<string, { schema: Record<string, unknown> }> }>
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }
}
interface Document {
  openapi: string
  components: { schemas: Record<string, Record<string, unknown>>, securitySchemes?: Record<string, unknown> }
  paths: Record<string, Record<string, Operation>>
}

async function documentOf (
  t: Parameters<typeof testDatabase>[0],
  { openapi = '3.0.3', refResolver = namedById, options = {}, securitySchemes = { bearerAuth } as Record<string, unknown> }: {
    openapi?: string
    /** null: @fastify/swagger's default. */
    refResolver?: FastifyDynamicSwaggerOptions['refResolver'] | null
    options?: Partial<FastifyDefaultDenyOptions>
    securitySchemes?: Record<string, unknown>
  } = {}
) {
  const { db, schema } = await testDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  await app.register(swagger, {
    openapi: { openapi, info: { title: 'host', version: '1.0.0' }, components: { securitySchemes } },
    ...(refResolver === null ? {} : { refResolver })
  } as FastifyDynamicSwaggerOptions)
  // A host schema whose id a plugin without a prefix could have taken.
  app.addSchema({ $id: 'Error', type: 'object', properties: { oops: { type: 'string' } } })
  await app.register(defaultDeny, { db, schema, grantRoutes: { securityScheme: 'bearerAuth' }, ...options })
  app.get('/health', { config: { permission: 'public' } }, async () => 'ok')
  await app.ready()
  return { app, document: app.swagger() as unknown as Document }
}

async function validate (document: unknown) {
  const result = await new Validator().validate(document as Parameters<Validator['validate']>[0])
  // The validator leaves `errors` out when there are none.
  return { valid: result.valid, errors: result.errors ?? [] }
}

function operations (document: Document): Array<[string, Operation]> {
  return Object.entries(document.paths)
    .filter(([path]) => path.startsWith('/permissions/'))
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]))
}

const statuses = (document: Document, route: string) => {
  const found = operations(document).find(([name]) => name === route)
  if (found === undefined) throw new Error(`no operation ${route}`)
  return Object.keys(found[1].responses).map(Number).sort((a, b) => a - b)
}

t.test('without securityScheme, operations name no scheme: a host that declares none still gets its document', async (t) => {
  const { document } = await documentOf(t, { options: { grantRoutes: {} }, securitySchemes: {} })
  t.same(await validate(document), { valid: true, errors: [] })
  t.ok(operations(document).length > 10)
  t.ok(operations(document).every(([, op]) => op.security === undefined), 'no security requirement')
})

t.test('the document is valid OpenAPI 3.0 and 3.1', async (t) => {
  for (const openapi of ['3.0.3', '3.1.0']) {
    const { document } = await documentOf(t, { openapi })
    t.same(await validate(document), { valid: true, errors: [] }, `OpenAPI ${openapi}: no errors`)
  }
})

t.test('every operation: tags, summary, description, a unique operationId, bearer security', async (t) => {
  const { document } = await documentOf(t)
  const ops = operations(document)
  t.equal(ops.length, 23, 'every route of the API, the membership, browse, access and type-level ones included')
  const ids = new Set<string>()
  for (const [name, op] of ops) {
    t.ok(Array.isArray(op.tags) && op.tags.length > 0, `${name}: tags`)
    t.ok(typeof op.summary === 'string' && op.summary.length > 0, `${name}: summary`)
    t.ok(typeof op.description === 'string' && op.description.length > 0, `${name}: description`)
    t.match(op.operationId, /^[a-z][A-Za-z]+$/, `${name}: operationId`)
    ids.add(op.operationId as string)
    t.same(op.security, [{ bearerAuth: [] }], `${name}: bearer security`)
    for (const [status, response] of Object.entries(op.responses)) {
      t.ok(response.description.length > 0 && response.description !== 'Default Response', `${name} ${status}: described`)
    }
  }
  t.equal(ids.size, ops.length, 'operationIds are unique')
  t.same(new Set(ops.flatMap(([, op]) => op.tags)), new Set(['grants', 'explain', 'audit', 'members', 'access']))
  t.same(document.components.securitySchemes, { bearerAuth }, 'the scheme the operations name is declared')
  t.notOk(document.paths['/health']?.get?.security, 'the host\'s own routes are left alone')
})

t.test('operationIds are stable', async (t) => {
  const { document } = await documentOf(t)
  const byRoute = Object.fromEntries(operations(document).map(([name, op]) => [name, op.operationId]))
  t.match(byRoute, {
    'GET /permissions/{resource}/{id}/grants': 'listGrants',
    'POST /permissions/{resource}/{id}/grants': 'addGrant',
    'PUT /permissions/{resource}/{id}/grants': 'replaceGrants',
    'DELETE /permissions/{resource}/{id}/grants/{kind}/{principal}/{privilege}': 'revokeGrant',
    'POST /permissions/bulk': 'bulkChangeGrants',
    'GET /permissions/audit/verify': 'verifyAudit',
    'PUT /permissions/groups/{group}/members/{kind}/{member}': 'addGroupMember',
    'GET /permissions/resources/{resource}': 'browseResources',
    'GET /permissions/access/{resource}': 'listAccess',
    'GET /permissions/type-grants/{resource}': 'listTypeGrants',
    'POST /permissions/type-grants/{resource}': 'addTypeGrant',
    'DELETE /permissions/type-grants/{resource}/{privilege}': 'revokeTypeGrant'
  })
})

t.test('shared schemas are components, referenced by $ref and not inlined', async (t) => {
  const { document } = await documentOf(t, { options: { privileges: ['read', 'edit', 'manage', 'publish'] } })
  const { schemas } = document.components
  for (const name of ['Error', 'Id', 'Privilege', 'GranteeInput', 'Grantee', 'Grant', 'Change', 'AuditEntry', 'MemberChange']) {
    t.ok(schemas[PREFIX + name], `${name} is a component`)
  }
  t.same(schemas[`${PREFIX}Privilege`]?.enum, ['read', 'edit', 'manage', 'publish'], 'the configured privileges')
  t.match(schemas[`${PREFIX}Error`], { properties: { statusCode: {}, code: {}, error: {}, message: {} } })
  t.same(schemas.Error, { type: 'object', properties: { oops: { type: 'string' } } }, 'the host\'s own Error is untouched')

  const errorRef = { $ref: `#/components/schemas/${PREFIX}Error` }
  for (const [name, op] of operations(document)) {
    for (const [status, response] of Object.entries(op.responses)) {
      if (Number(status) >= 400) t.same(response.content?.['application/json']?.schema, errorRef, `${name} ${status}: the shared error body`)
    }
  }
  const add = document.paths['/permissions/{resource}/{id}/grants']?.post as Operation
  const body = add.requestBody?.content['application/json']?.schema as { properties: Record<string, unknown> }
  t.same(body.properties.grantee, { $ref: `#/components/schemas/${PREFIX}GranteeInput` })
  t.same(body.properties.privilege, { $ref: `#/components/schemas/${PREFIX}Privilege` })
  t.same(add.responses['201']?.content?.['application/json']?.schema, { $ref: `#/components/schemas/${PREFIX}Change` })
  const paths = JSON.stringify(document.paths)
  t.notMatch(paths, /"oneOf"|"statusCode"|"grantedAt"/, 'no inline copy of a grantee, an error body or a grant')
})

t.test('each route lists the statuses it can answer', async (t) => {
  const { document } = await documentOf(t)
  t.same(statuses(document, 'GET /permissions/{resource}/{id}/grants'), [200, 400, 401, 403, 404, 503])
  t.same(statuses(document, 'POST /permissions/{resource}/{id}/grants'), [200, 201, 400, 401, 403, 404, 409, 413, 415, 422, 503])
  t.same(statuses(document, 'DELETE /permissions/{resource}/{id}/grants/{kind}/{principal}/{privilege}'), [200, 400, 401, 403, 404, 409, 503])
  t.same(statuses(document, 'PUT /permissions/{resource}/{id}/owner'), [200, 400, 401, 403, 404, 409, 413, 415, 503])
  t.same(statuses(document, 'GET /permissions/audit'), [200, 400, 401, 403, 503])
  t.same(statuses(document, 'GET /permissions/audit/verify'), [200, 401, 403, 503])
  t.same(statuses(document, 'PUT /permissions/groups/{group}/members/{kind}/{member}'), [200, 201, 400, 401, 403, 404, 422, 503])
  t.same(statuses(document, 'DELETE /permissions/groups/{group}/members/{kind}/{member}'), [200, 400, 401, 403, 404, 422, 503])
  for (const [name, op] of operations(document)) {
    const codes = Object.keys(op.responses)
    if (name.startsWith('GET ')) t.notOk(codes.includes('409') || codes.includes('413') || codes.includes('415') || codes.includes('422'), `${name}: no change refusals`)
    if (op.requestBody === undefined) t.notOk(codes.includes('413') || codes.includes('415'), `${name}: no body, no 413 or 415`)
  }
})

t.test('the default refResolver: components named def-N, still referenced and valid', async (t) => {
  const { document } = await documentOf(t, { refResolver: null })
  t.same(await validate(document), { valid: true, errors: [] })
  const list = document.paths['/permissions/{resource}/{id}/grants']?.get as Operation
  t.match(list.responses['403']?.content?.['application/json']?.schema, { $ref: /^#\/components\/schemas\/def-\d+$/ })
})

t.test('two apps, each with its own plugin and settings, document and validate alike', async (t) => {
  const [a, b] = await Promise.all([
    documentOf(t, { options: { privileges: ['read', 'manage'] } }),
    documentOf(t, { options: { privileges: ['read', 'edit', 'manage'], maxIdLength: 40, resources: ['doc'] } })
  ])
  t.same(a.document.components.schemas[`${PREFIX}Privilege`]?.enum, ['read', 'manage'])
  t.same(b.document.components.schemas[`${PREFIX}Privilege`]?.enum, ['read', 'edit', 'manage'])
  t.equal(b.document.components.schemas[`${PREFIX}Id`]?.maxLength, 40)
  // The $refs validate and serialize as the inline schemas did.
  const as = { authorization: `Bearer ${b.app.jwt.sign({ sub: 'alice' })}` }
  await b.app.permissions.setOwner({ resource: 'doc', id: 'd1', owner: 'alice' })
  const url = '/permissions/doc/d1/grants'
  const coerced = await b.app.inject({ method: 'POST', url, headers: as, payload: { grantee: { kind: 'user', id: 'bob' }, privilege: ['read'] } })
  t.equal(coerced.json().code, 'FST_DEFAULT_DENY_INVALID_REQUEST', 'no coercion through the $ref')
  const long = await b.app.inject({ method: 'POST', url, headers: as, payload: { grantee: { kind: 'user', id: 'b'.repeat(41) }, privilege: 'read' } })
  t.equal(long.statusCode, 400, 'the Id length of this app')
  const created = await b.app.inject({ method: 'POST', url, headers: as, payload: { grantee: { kind: 'user', id: 'bob' }, privilege: 'read', extra: 1 } })
  t.equal(created.statusCode, 400, 'no extra properties')
  const ok = await b.app.inject({ method: 'POST', url, headers: as, payload: { grantee: { kind: 'user', id: 'bob' }, privilege: 'read' } })
  t.equal(ok.statusCode, 201)
  t.same(ok.json(), {
    grantee: { kind: 'user', id: 'bob' },
    before: [],
    after: ['read'],
    changed: ['read'],
    schedule: { before: [], after: [{ privilege: 'read', startsAt: null, expiresAt: null }] }
  })
  const refused = await b.app.inject({ url, headers: { authorization: `Bearer ${b.app.jwt.sign({ sub: 'mallory' })}` } })
  t.same(refused.json(), { statusCode: 403, code: 'FST_DEFAULT_DENY_FORBIDDEN', error: 'Forbidden', message: 'Forbidden' }, 'the error body')
})

t.test('with the hierarchy option: the tree routes, tagged hierarchy, in a document that still validates', async (t) => {
  const hierarchy = { types: { document: { parents: ['folder'] }, folder: { parents: ['folder'] } } }
  for (const openapi of ['3.0.3', '3.1.0']) {
    const { document } = await documentOf(t, { openapi, options: { hierarchy } })
    t.same(await validate(document), { valid: true, errors: [] }, `OpenAPI ${openapi}: no errors`)
    const tree = operations(document).filter(([, op]) => op.tags?.includes('hierarchy'))
    t.same(tree.map(([name, op]) => `${name} ${op.operationId ?? ''}`).sort(), [
      'GET /permissions/{resource}/{id}/ancestors listAncestors',
      'GET /permissions/{resource}/{id}/children listChildren',
      'PUT /permissions/{resource}/{id}/parent setParent'
    ])
    t.same(statuses(document, 'PUT /permissions/{resource}/{id}/parent'), [200, 400, 401, 403, 404, 413, 415, 503])
    t.same(statuses(document, 'GET /permissions/{resource}/{id}/children'), [200, 400, 401, 403, 404, 503])
  }
})
