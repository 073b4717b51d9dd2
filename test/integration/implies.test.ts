import t from 'tap'
import { build } from '../helper.js'

t.test('implies lets one privilege include others, transitively', async (t) => {
  const { app, as } = await build(t, { implies: { delete: ['edit'], edit: ['read'] } })
  for (const privilege of ['read', 'edit', 'delete'] as const) {
    app.get(`/d/:id/${privilege}`, { config: { permission: { resource: 'document', privilege } } }, async () => privilege)
  }
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'editor' }, resource: 'document', id: '1', privilege: 'edit' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'remover' }, resource: 'document', id: '1', privilege: 'delete' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'reader' }, resource: 'document', id: '1', privilege: 'read' })

  const status = async (user: string, privilege: string) =>
    (await app.inject({ url: `/d/1/${privilege}`, headers: as(user) })).statusCode
  t.equal(await status('editor', 'read'), 200)
  t.equal(await status('editor', 'edit'), 200)
  t.equal(await status('editor', 'delete'), 403, 'implies only goes down')
  t.equal(await status('remover', 'read'), 200, 'delete → edit → read')
  t.equal(await status('reader', 'edit'), 403)
  t.ok(await app.permissions.check({ kind: 'user', id: 'remover', groups: [], superuser: false, claims: null }, { resource: 'document', id: '1', privilege: 'read' }))
})

t.test('owner privileges are expanded by implies too', async (t) => {
  const { app, as } = await build(t, { implies: { edit: ['read'] }, ownerPrivileges: ['edit'] })
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'read')
  app.delete('/d/:id', { config: { permission: { resource: 'document', privilege: 'delete' } } }, async () => 'deleted')
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: '1', owner: 'olga' })
  t.equal((await app.inject({ url: '/d/1', headers: as('olga') })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: '/d/1', headers: as('olga') })).statusCode, 403)
})
