import t from 'tap'
import { build } from '../helper.js'

t.test('a superuser passes every resource check; the claim must be exactly true', async (t) => {
  const { app, as } = await build(t, { superuserClaim: 'superuser' })
  let ran = 0
  app.delete('/d/:id', { config: { permission: { resource: 'document', privilege: 'delete' } } }, async () => { ran++; return 'gone' })
  app.get('/d', { config: { permission: { resource: 'document', privilege: 'read', id: false } } }, async () => { ran++; return [] })
  app.get('/plain', async () => 'never')
  await app.ready()

  t.equal((await app.inject({ method: 'DELETE', url: '/d/1', headers: as('root', { superuser: true }) })).statusCode, 200)
  t.equal((await app.inject({ url: '/d', headers: as('root', { superuser: true }) })).statusCode, 200)
  for (const value of ['true', 1, 'yes', [true], { value: true }]) {
    t.equal((await app.inject({ method: 'DELETE', url: '/d/1', headers: as('root', { superuser: value }) })).statusCode, 403, JSON.stringify(value))
  }
  t.equal((await app.inject({ url: '/plain', headers: as('root', { superuser: true }) })).statusCode, 403,
    'an unannotated route is denied even to a superuser')
  t.equal(ran, 2)
  t.ok(await app.permissions.check({ kind: 'user', id: 'root', groups: [], superuser: true, claims: null }, { resource: 'document', id: '9', privilege: 'delete' }))
})

t.test('superusers are off unless a claim is configured', async (t) => {
  const { app, as } = await build(t)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  t.equal((await app.inject({ url: '/d/1', headers: as('root', { superuser: true }) })).statusCode, 403)
})

t.test('a custom principal resolver', async (t) => {
  const { app, as } = await build(t, {
    resolvePrincipal: async (_request, claims) => ({
      id: `tenant1:${String(claims.sub)}`,
      groups: claims.role === 'admin' ? ['admins'] : [],
      superuser: claims.role === 'root'
    })
  })
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => request.principal?.id)
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'tenant1:alice' }, resource: 'document', id: '1', privilege: 'read' })
  const res = await app.inject({ url: '/d/1', headers: as('alice') })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'tenant1:alice')
  t.equal((await app.inject({ url: '/d/2', headers: as('x', { role: 'root' }) })).statusCode, 200)
})
