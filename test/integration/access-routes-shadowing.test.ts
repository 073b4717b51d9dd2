// The browse, access and type-level routes start with a fixed segment
// (resources, access, type-grants): a resource type of that very name still
// has its own grant routes under /:resource/:id/…, none is shadowed.
import t from 'tap'
import { build } from '../helper.js'

t.test('resource types named like the new routes keep their grant routes', async (t) => {
  const types = ['resources', 'access', 'type-grants']
  const { app, as } = await build(t, { superuserClaim: 'su', resources: [...types, 'document'] })
  await app.ready()
  for (const type of types) {
    await app.permissions.setOwner({ resource: type, id: 'x', owner: 'olga' })
    const list = await app.inject({ url: `/permissions/${type}/x/grants`, headers: as('olga') })
    t.equal(list.statusCode, 200, `GET /permissions/${type}/x/grants`)
    t.match(list.json(), { resource: type, id: 'x', owner: 'olga' })
    const add = await app.inject({ method: 'POST', url: `/permissions/${type}/x/grants`, headers: as('olga'), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' } })
    t.equal(add.statusCode, 201, `POST /permissions/${type}/x/grants`)
    const revoke = await app.inject({ method: 'DELETE', url: `/permissions/${type}/x/grants/user/carol/read`, headers: as('olga') })
    t.equal(revoke.statusCode, 200, `DELETE /permissions/${type}/x/grants/user/carol/read`)
    const anonymous = await app.inject({ method: 'DELETE', url: `/permissions/${type}/x/grants/anonymous/read`, headers: as('olga') })
    t.equal(anonymous.statusCode, 200, `DELETE /permissions/${type}/x/grants/anonymous/read`)
  }
  const browse = await app.inject({ url: '/permissions/resources/type-grants', headers: as('olga') })
  t.same(browse.json().resources, [{ id: 'x', owner: 'olga', grants: 0 }], 'and the new routes answer for those types too')
})
