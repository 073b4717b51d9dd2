// A refusal of the client's own input says what to fix: the field as a JSON
// pointer (and the part of the request it is in), the rule, the accepted
// values when they are few, and what was sent, quoted, cut short and with
// control characters escaped. It never reveals a grant, a row or an internal.
import t from 'tap'
import { build, snapshot } from '../helper.js'

async function setup (t: Parameters<typeof build>[0]) {
  const built = await build(t, { superuserClaim: 'su', resources: [] })
  built.app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => ({ ok: true }))
  await built.app.ready()
  await built.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  await built.app.permissions.grant({ grantee: { kind: 'user', id: 'secret-sharer' }, resource: 'document', id: 'd1', privilege: 'edit' })
  return built
}

const carol = { kind: 'user', id: 'carol' }

t.test('the reported cases: a typo in the privilege, the grantee kind, a past expiresAt', async (t) => {
  const { app, as, db, schema } = await setup(t)
  const before = await snapshot(db, schema)
  const post = async (payload: unknown) => await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: payload as object })
  const cases: Array<[unknown, object]> = [
    [{ grantee: carol, privilege: 'wirte' },
      { field: '/privilege', in: 'body', message: 'privilege must be one of read, edit, delete, manage (got "wirte")' }],
    [{ grantee: { kind: 'usr', id: 'carol' }, privilege: 'read' },
      { field: '/grantee/kind', in: 'body', message: 'grantee.kind must be one of user, group, anonymous (got "usr")' }],
    [{ grantee: carol, privilege: 'read', expiresAt: '2020-01-01T00:00:00Z' },
      { field: '/expiresAt', in: 'body', message: 'expiresAt must be in the future: a grant that has expired never counts (got "2020-01-01T00:00:00.000Z")' }]
  ]
  for (const [payload, refusal] of cases) {
    const res = await post(payload)
    t.equal(res.statusCode, 400)
    t.same(res.json(), { statusCode: 400, code: 'FST_DEFAULT_DENY_INVALID_REQUEST', error: 'Bad Request', ...refusal })
    t.notMatch(res.body, /secret-sharer|olga|edit,.*owner/, 'no grant or owner is revealed')
  }
  t.same(await snapshot(db, schema), before, 'nothing written')
})

t.test('items of a list are named by their position', async (t) => {
  const { app, as } = await setup(t)
  const future = new Date(Date.now() + 60_000).toISOString()
  const grants = [0, 1, 2].map(() => ({ grantee: carol, privilege: 'read', expiresAt: future }))
  grants.push({ grantee: carol, privilege: 'read', expiresAt: '2021-06-01T00:00:00Z' })
  const whole = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grants } })
  t.match(whole.json(), { statusCode: 400, field: '/grants/3/expiresAt', in: 'body', message: /^grants\[3\]\.expiresAt must be in the future/ })
  const schema = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grants: [{ grantee: carol, privilege: 'read' }, { grantee: carol, privilege: 'fly' }] } })
  t.match(schema.json(), { field: '/grants/1/privilege', message: 'grants[1].privilege must be one of read, edit, delete, manage (got "fly")' })
  const bulk = await app.inject({
    method: 'POST', url: '/permissions/bulk', headers: as('root', { su: true }),
    payload: { grant: [{ resource: 'document', id: 'd1', grantee: carol, privilege: 'read' }, { resource: 'documnet', id: 'd1', grantee: carol, privilege: 'read' }] }
  })
  t.match(bulk.json(), { field: '/grant/1/resource', in: 'body', message: 'resource "documnet" is not a known resource type (did you mean "document"?); known: document, group' })
})

t.test('path and query parameters are named where they are', async (t) => {
  const { app, as } = await setup(t)
  const revoke = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/usr/carol/read', headers: as('olga') })
  t.same(revoke.json(), { statusCode: 400, code: 'FST_DEFAULT_DENY_INVALID_REQUEST', error: 'Bad Request', field: '/kind', in: 'path', message: 'kind must be one of user, group (got "usr")' })
  const audit = await app.inject({ url: '/permissions/document/d1/audit?limit=0', headers: as('olga') })
  t.match(audit.json(), { field: '/limit', in: 'query', message: 'limit must be a whole number from 1 to 100: entries per page (default 50) (got "0")' })
  const extra = await app.inject({ url: '/permissions/document/d1/audit?colour=red', headers: as('olga') })
  t.match(extra.json(), { field: '/colour', in: 'query', message: /^colour is not a known property \(known: limit, before, kind, principal\)$/ })
})

t.test('what is echoed is cut short and its control characters escaped', async (t) => {
  const { app, as } = await setup(t)
  const sent = `wi\u0000rte\u202e\u001b[31m${'x'.repeat(100)}`
  const res = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: carol, privilege: sent } })
  const { message } = res.json()
  t.equal(message, `privilege must be one of read, edit, delete, manage (got "wi\\u0000rte\\u202e\\u001b[31m${'x'.repeat(28)}…")`)
  t.notMatch(message, /[\u0000-\u001f\u202e]/, 'no control character reaches the message')
})

t.test('a superuser granting on a typo of a resource type gets a did-you-mean (it was 201)', async (t) => {
  const { app, as, db, schema } = await setup(t)
  const before = await snapshot(db, schema)
  const su = as('root', { su: true })
  const res = await app.inject({ method: 'POST', url: '/permissions/documnet/welcome/grants', headers: su, payload: { grantee: carol, privilege: 'read' } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), {
    statusCode: 400,
    code: 'FST_DEFAULT_DENY_INVALID_REQUEST',
    error: 'Bad Request',
    field: '/resource',
    in: 'path',
    message: 'resource "documnet" is not a known resource type (did you mean "document"?); known: document, group'
  })
  for (const url of ['/permissions/documnet/welcome/grants', '/permissions/documnet/welcome/explain?kind=user&principal=carol']) {
    const read = await app.inject({ url, headers: su })
    t.match(read.json(), { statusCode: 400, field: '/resource', message: /did you mean "document"/ }, `GET ${url}: a list or a decision on a typo is refused too`)
  }
  for (const [method, url, payload] of [
    ['PUT', '/permissions/documnet/welcome/grantees/user/carol', { privileges: ['read'] }],
    ['PUT', '/permissions/documnet/welcome/owner', { owner: 'carol' }]
  ] as const) {
    t.equal((await app.inject({ method, url, headers: su, payload })).statusCode, 400, `${method} ${url}`)
  }
  t.same(await snapshot(db, schema), before, 'nothing written')
})

t.test('what is stored on a type no longer known can still be revoked and its owner cleared', async (t) => {
  const { app, as, db, schema } = await setup(t)
  // A grant stored before its type was dropped from the app (or before types were checked).
  await db.withSchema(schema).insertInto('default_deny_grant')
    .values({ principal_kind: 'user', principal_id: 'carol', resource_type: 'legacy', resource_id: 'x', privilege: 'read' }).execute()
  const su = as('root', { su: true })
  const revoke = await app.inject({ method: 'DELETE', url: '/permissions/legacy/x/grants/user/carol/read', headers: su })
  t.equal(revoke.statusCode, 200, 'a revoke on an unknown type is not refused')
  t.same(revoke.json().after, [], 'and it removes the grant')
  t.equal((await app.inject({ method: 'PUT', url: '/permissions/legacy/x/owner', headers: su, payload: { owner: null } })).statusCode, 200, 'nor is clearing its owner')
  t.equal((await app.inject({ method: 'PUT', url: '/permissions/legacy/x/grantees/user/carol', headers: su, payload: { privileges: [] } })).statusCode, 200, 'nor taking everything away')
})
