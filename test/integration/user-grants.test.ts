import t from 'tap'
import { build, expireGrantsOf, withoutRevision } from '../helper.js'

async function documentsApp (t: Parameters<typeof build>[0], options = {}) {
  const built = await build(t, options)
  const ran: string[] = []
  for (const privilege of ['read', 'edit', 'delete'] as const) {
    built.app.get(`/documents/:id/${privilege}`, { config: { permission: { resource: 'document', privilege } } }, async (request) => {
      ran.push(privilege)
      return { id: (request.params as { id: string }).id }
    })
  }
  return { ...built, ran }
}

t.test('no grant: every privilege is denied', async (t) => {
  const { app, as, ran } = await documentsApp(t)
  for (const privilege of ['read', 'edit', 'delete']) {
    const res = await app.inject({ url: `/documents/1/${privilege}`, headers: as('alice') })
    t.equal(res.statusCode, 403, privilege)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
    t.equal(res.json().message, 'Forbidden', 'the body names no resource or privilege')
  }
  t.same(ran, [])
})

t.test('a read grant allows read on that resource only', async (t) => {
  const { app, as, ran } = await documentsApp(t)
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })

  t.equal((await app.inject({ url: '/documents/1/read', headers: as('alice') })).statusCode, 200)
  t.equal((await app.inject({ url: '/documents/1/edit', headers: as('alice') })).statusCode, 403)
  t.equal((await app.inject({ url: '/documents/1/delete', headers: as('alice') })).statusCode, 403)
  t.equal((await app.inject({ url: '/documents/2/read', headers: as('alice') })).statusCode, 403, 'another resource')
  t.equal((await app.inject({ url: '/documents/1/read', headers: as('bob') })).statusCode, 403, 'another user')
  t.same(ran, ['read'])
})

t.test('privileges are independent: edit and delete do not give read', async (t) => {
  const { app, as } = await documentsApp(t)
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'edit' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'delete' })
  t.equal((await app.inject({ url: '/documents/1/read', headers: as('alice') })).statusCode, 403)
  t.equal((await app.inject({ url: '/documents/1/edit', headers: as('alice') })).statusCode, 200)
  t.equal((await app.inject({ url: '/documents/1/delete', headers: as('alice') })).statusCode, 200)
})

t.test('a grant on another resource type does not count', async (t) => {
  const { app, as } = await documentsApp(t)
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'folder', id: '1', privilege: 'read' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'folder', id: null, privilege: 'read' })
  t.equal((await app.inject({ url: '/documents/1/read', headers: as('alice') })).statusCode, 403)
})

t.test('a type-level grant covers every resource of the type', async (t) => {
  const { app, as } = await documentsApp(t)
  app.post('/documents', { config: { permission: { resource: 'document', privilege: 'edit', id: false } } }, async () => 'created')
  await app.ready()
  t.equal((await app.inject({ method: 'POST', url: '/documents', headers: as('alice') })).statusCode, 403)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: null, privilege: 'edit' })
  t.equal((await app.inject({ method: 'POST', url: '/documents', headers: as('alice') })).statusCode, 200)
  t.equal((await app.inject({ url: '/documents/7/edit', headers: as('alice') })).statusCode, 200)
  t.equal((await app.inject({ url: '/documents/7/read', headers: as('alice') })).statusCode, 403)
})

t.test('an instance grant does not satisfy a type-level route', async (t) => {
  const { app, as } = await documentsApp(t)
  app.get('/documents', { config: { permission: { resource: 'document', privilege: 'read', id: false } } }, async () => [])
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })
  t.equal((await app.inject({ url: '/documents', headers: as('alice') })).statusCode, 403)
})

t.test('revoking takes effect on the next request', async (t) => {
  const { app, as } = await documentsApp(t)
  await app.ready()
  const grant = { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' } as const
  await app.permissions.grant(grant)
  t.equal((await app.inject({ url: '/documents/1/read', headers: as('alice') })).statusCode, 200)
  t.same(withoutRevision(await app.permissions.revoke(grant)), { removed: true })
  t.equal((await app.inject({ url: '/documents/1/read', headers: as('alice') })).statusCode, 403)
  t.same(withoutRevision(await app.permissions.revoke(grant)), { removed: false })
})

t.test('an expired grant no longer counts', async (t) => {
  const { app, as, db, schema } = await documentsApp(t)
  await app.ready()
  await app.permissions.grant({
    grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read', expiresAt: new Date(Date.now() + 60_000)
  })
  await expireGrantsOf(db, schema, 'alice')
  t.equal((await app.inject({ url: '/documents/1/read', headers: as('alice') })).statusCode, 403)
  // Granting again without an expiry renews it, without a second row.
  t.same(withoutRevision(await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })), { created: false, changed: true })
  t.equal((await app.inject({ url: '/documents/1/read', headers: as('alice') })).statusCode, 200)
  t.equal((await app.permissions.listGrants({ resource: 'document', id: '1' })).length, 1)
})

t.test('a custom param name and an id extractor', async (t) => {
  const { app, as } = await build(t)
  app.get('/docs/:docId', { config: { permission: { resource: 'document', privilege: 'read', param: 'docId' } } }, async () => 'param')
  app.get('/by-query', {
    config: { permission: { resource: 'document', privilege: 'read', id: (request) => (request.query as { doc?: string }).doc } }
  }, async () => 'query')
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '9', privilege: 'read' })
  t.equal((await app.inject({ url: '/docs/9', headers: as('alice') })).statusCode, 200)
  t.equal((await app.inject({ url: '/docs/8', headers: as('alice') })).statusCode, 403)
  t.equal((await app.inject({ url: '/by-query?doc=9', headers: as('alice') })).statusCode, 200)
  t.equal((await app.inject({ url: '/by-query?doc=8', headers: as('alice') })).statusCode, 403)
  const missing = await app.inject({ url: '/by-query', headers: as('alice') })
  t.equal(missing.statusCode, 404, 'no id at all: there is nothing to find')
  const array = await app.inject({ url: '/by-query?doc=9&doc=8', headers: as('alice') })
  t.equal(array.statusCode, 404, 'an array is not an id')
})
