import t from 'tap'
import { build } from '../helper.js'

t.test('a group grant applies to members, read from the token on every request', async (t) => {
  const { app, as } = await build(t)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'editors' }, resource: 'document', id: '1', privilege: 'read' })

  t.equal((await app.inject({ url: '/d/1', headers: as('alice', { groups: ['staff', 'editors'] }) })).statusCode, 200)
  t.equal((await app.inject({ url: '/d/1', headers: as('alice', { groups: ['staff'] }) })).statusCode, 403, 'membership removed')
  t.equal((await app.inject({ url: '/d/1', headers: as('alice') })).statusCode, 403, 'no groups claim')
  t.equal((await app.inject({ url: '/d/2', headers: as('alice', { groups: ['editors'] }) })).statusCode, 403)
})

t.test('a user and a group with the same id are different principals', async (t) => {
  const { app, as } = await build(t)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })
  t.equal((await app.inject({ url: '/d/1', headers: as('alice') })).statusCode, 403, 'user alice is not group alice')
  await app.permissions.grant({ grantee: { kind: 'user', id: 'team' }, resource: 'document', id: '2', privilege: 'read' })
  t.equal((await app.inject({ url: '/d/2', headers: as('bob', { groups: ['team'] }) })).statusCode, 403, 'group team is not user team')
})

t.test('a configurable groups claim', async (t) => {
  const { app, as } = await build(t, { groupsClaim: 'roles', userClaim: 'uid' })
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => request.principal)
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'editors' }, resource: 'document', id: '1', privilege: 'read' })
  const res = await app.inject({ url: '/d/1', headers: as('ignored', { uid: 'u-1', roles: ['editors'] }) })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { kind: 'user', id: 'u-1', groups: ['editors'], superuser: false })
})
