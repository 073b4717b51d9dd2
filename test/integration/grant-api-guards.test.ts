// Eligibility, existence and the last-manager guard.
import t from 'tap'
import { build } from '../helper.js'

t.test('anonymous may be granted read only; manage never', async (t) => {
  const { app, as } = await build(t)
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  for (const privilege of ['edit', 'delete', 'manage']) {
    const res = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: { kind: 'anonymous' }, privilege } })
    t.equal(res.statusCode, 422, privilege)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_INELIGIBLE')
  }
  t.equal((await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: { kind: 'anonymous' }, privilege: 'read' } })).statusCode, 201)
  await t.rejects(app.permissions.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: 'd2', privilege: 'edit' }),
    { code: 'FST_DEFAULT_DENY_INELIGIBLE', statusCode: 422 }, 'the service API applies the same rule')
  t.same((await app.permissions.listGrants({ resource: 'document', id: 'd1' })).map((g) => g.privilege), ['read'])
})

t.test('a host eligibility rule and a resource existence check', async (t) => {
  const { app, as } = await build(t, {
    canHold: (grantee, privilege) => !(grantee.kind === 'group' && grantee.id === 'guests' && privilege !== 'read'),
    resourceExists: async (resource, id) => resource === 'document' && id !== 'ghost'
  })
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  await app.permissions.setOwner({ resource: 'document', id: 'ghost', owner: 'olga' })
  const post = (id: string, grantee: object, privilege: string) =>
    app.inject({ method: 'POST', url: `/permissions/document/${id}/grants`, headers: as('olga'), payload: { grantee, privilege } })
  t.equal((await post('d1', { kind: 'group', id: 'guests' }, 'edit')).statusCode, 422)
  t.equal((await post('d1', { kind: 'group', id: 'guests' }, 'read')).statusCode, 201)
  const ghost = await post('ghost', { kind: 'user', id: 'carol' }, 'read')
  t.equal(ghost.statusCode, 404)
  t.equal(ghost.json().code, 'FST_DEFAULT_DENY_NOT_FOUND')
})

t.test('the last owner or manager cannot be removed', async (t) => {
  const { app, as } = await build(t, { superuserClaim: 'su' })
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  const clear = await app.inject({ method: 'PUT', url: '/permissions/document/d1/owner', headers: as('olga'), payload: { owner: null } })
  t.equal(clear.statusCode, 409)
  t.equal(clear.json().code, 'FST_DEFAULT_DENY_LAST_MANAGER')
  t.equal(await app.permissions.getOwner({ resource: 'document', id: 'd1' }), 'olga', 'nothing changed')

  await app.permissions.setOwner({ resource: 'document', id: 'd2', owner: null })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'mary' }, resource: 'document', id: 'd2', privilege: 'manage' })
  const self = await app.inject({ method: 'DELETE', url: '/permissions/document/d2/grants/user/mary/manage', headers: as('root', { su: true }) })
  t.equal(self.statusCode, 409, 'not even a superuser removes the last manager by accident')
  await app.permissions.grant({ grantee: { kind: 'user', id: 'max' }, resource: 'document', id: 'd2', privilege: 'manage' })
  t.equal((await app.inject({ method: 'DELETE', url: '/permissions/document/d2/grants/user/mary/manage', headers: as('root', { su: true }) })).statusCode, 200,
    'with another manager left it is fine')
  const handOver = await app.inject({ method: 'PUT', url: '/permissions/document/d1/owner', headers: as('olga'), payload: { owner: 'oscar' } })
  t.equal(handOver.statusCode, 200, 'handing ownership on keeps a manager')
})

t.test('a request demoted by the endpoint rules changes no grants', async (t) => {
  const { app, as } = await build(t, {
    rules: {
      paths: { 'permissions/': 'https-or-reader' },
      groups: { 'https-or-reader': [[{ type: 'open', secure: 1 }], [{ type: 'open', demote: 'reader' }]] }
    }
  })
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  // inject is plain HTTP: the owner is demoted to reader here.
  const res = await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
  })
  t.equal(res.statusCode, 403)
  t.same(await app.permissions.listGrants({ resource: 'document', id: 'd1' }), [])
  t.equal((await app.inject({ url: '/permissions/document/d1/grants', headers: as('olga') })).statusCode, 200, 'reading is still allowed')
})
