// The access and browse routes with resource hierarchies: a grant or the
// ownership of an ancestor reaches the documents below it, and the access
// answer names the ancestor; a manager of a project browses the documents
// it manages through it, and only those.
import t from 'tap'
import { build } from '../helper.js'

const HIERARCHY = { types: { folder: { parents: ['project'] }, document: { parents: ['folder'] } } }

async function setup (t: Parameters<typeof build>[0]) {
  const built = await build(t, { superuserClaim: 'su', hierarchy: HIERARCHY })
  await built.app.ready()
  const p = built.app.permissions
  await p.setOwner({ resource: 'project', id: 'p1', owner: 'olga' })
  await p.setParent({ resource: 'folder', id: 'f1' }, { resource: 'project', id: 'p1' })
  for (const id of ['d1', 'd2']) await p.setParent({ resource: 'document', id }, { resource: 'folder', id: 'f1' })
  await p.setOwner({ resource: 'document', id: 'x1', owner: 'mia' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'folder', id: 'f1', privilege: 'read' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'x1', privilege: 'read' })
  return built
}

t.test('access through an ancestor names it; within what the viewer manages', async (t) => {
  const { app, as } = await setup(t)
  const own = await app.inject({ url: '/permissions/access/document', headers: as('carol') })
  t.equal(own.statusCode, 200)
  t.same(own.json().resources.map((r: { id: string }) => r.id), ['d1', 'd2', 'x1'])
  t.match(own.json().resources[0].privileges, [{ privilege: 'read', via: [{ source: 'user', ancestor: { resource: 'folder', id: 'f1' } }] }])
  const olga = await app.inject({ url: '/permissions/access/document?kind=user&principal=carol', headers: as('olga') })
  t.same(olga.json().resources.map((r: { id: string }) => r.id), ['d1', 'd2'], 'olga manages d1 and d2 as owner of p1, not x1')
  const mine = await app.inject({ url: '/permissions/access/document', headers: as('olga') })
  t.match(mine.json().resources[0].privileges, [{ via: [{ source: 'owner', ancestor: { resource: 'project', id: 'p1' } }] }], 'owner of an ancestor')
})

t.test('browse: the owner of a project manages the documents below it', async (t) => {
  const { app, as } = await setup(t)
  const olga = await app.inject({ url: '/permissions/resources/document', headers: as('olga') })
  t.same(olga.json().resources, [{ id: 'd1', owner: null, grants: 0 }, { id: 'd2', owner: null, grants: 0 }])
  const mia = await app.inject({ url: '/permissions/resources/document', headers: as('mia') })
  t.same(mia.json().resources, [{ id: 'x1', owner: 'mia', grants: 1 }])
})
