import t from 'tap'
import { build } from '../helper.js'

t.test('a request without credentials is the anonymous principal', async (t) => {
  const { app, as } = await build(t)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => request.principal)
  app.put('/d/:id', { config: { permission: { resource: 'document', privilege: 'edit' } } }, async () => 'edited')
  await app.ready()

  t.equal((await app.inject({ url: '/d/1' })).statusCode, 403, 'anonymous holds nothing by default')
  await app.permissions.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: '1', privilege: 'read' })
  const res = await app.inject({ url: '/d/1' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { kind: 'anonymous', id: null, groups: [], superuser: false, claims: null })
  t.equal((await app.inject({ method: 'PUT', url: '/d/1' })).statusCode, 403, 'only the granted privilege')
  t.equal((await app.inject({ url: '/d/2' })).statusCode, 403, 'only the granted resource')
  t.equal((await app.inject({ url: '/d/1', headers: as('alice') })).statusCode, 200,
    'what anyone may do without a token, a signed-in user may do too')
})

t.test('a user grant to someone else does not make a resource public', async (t) => {
  const { app } = await build(t)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })
  await app.permissions.grant({ grantee: { kind: 'group', id: 'guest' }, resource: 'document', id: '1', privilege: 'read' })
  t.equal((await app.inject({ url: '/d/1' })).statusCode, 403)
  t.ok(await app.permissions.check(app.permissions.anonymous, { resource: 'document', id: '1', privilege: 'read' }) === false)
})
