// The example served by `npm start`, exercised end to end.
import t from 'tap'
import { seedExample } from '../../examples/app.js'
import { exampleApp } from '../helper.js'

t.test('the example API: owner, group share, strangers, superuser, create and delete', async (t) => {
  const { app, auth } = await exampleApp(t)
  const alice = auth({ sub: 'alice' })
  const bob = auth({ sub: 'bob', groups: ['staff'] })
  const carol = auth({ sub: 'carol' })
  const admin = auth({ sub: 'admin', admin: true })
  const edit = { title: 'Edited', body: 'new text' }

  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  t.equal((await app.inject({ url: '/documents/welcome', headers: bob })).statusCode, 200)
  t.equal((await app.inject({ url: '/documents/welcome', headers: carol })).statusCode, 403)
  t.equal((await app.inject({ url: '/documents/welcome' })).statusCode, 403)
  t.equal((await app.inject({ method: 'PUT', url: '/documents/welcome', headers: bob, payload: edit })).statusCode, 403)
  t.equal((await app.inject({ method: 'PUT', url: '/documents/welcome', headers: alice, payload: edit })).statusCode, 200)
  t.equal((await app.inject({ url: '/forgotten', headers: admin })).statusCode, 403)
  t.equal((await app.inject({ url: '/documents/nope', headers: admin })).statusCode, 404)

  const created = await app.inject({ method: 'POST', url: '/documents', headers: carol, payload: { title: 'Mine', body: 'x' } })
  t.equal(created.statusCode, 201)
  const { id } = created.json()
  t.equal((await app.inject({ url: `/documents/${id}`, headers: carol })).statusCode, 200, 'the creator owns it')
  t.equal((await app.inject({ url: `/documents/${id}`, headers: bob })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/documents', payload: { title: 'x', body: 'y' } })).statusCode, 401)
  for (const payload of [{ title: ['x'], body: 'y' }, { title: 1, body: 'y' }, { title: 'x', body: 'y', owner: 'bob' }, { title: '', body: 'y' }]) {
    const res = await app.inject({ method: 'POST', url: '/documents', headers: carol, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
  }

  const share = await app.inject({
    method: 'POST', url: '/permissions/document/welcome/grants', headers: alice, payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
  })
  t.equal(share.statusCode, 201, 'the owner shares through the grant API')
  t.equal((await app.inject({ url: '/documents/welcome', headers: carol })).statusCode, 200)
  const grab = await app.inject({
    method: 'POST', url: '/permissions/document/welcome/grants', headers: bob, payload: { grantee: { kind: 'user', id: 'bob' }, privilege: 'edit' }
  })
  t.equal(grab.statusCode, 403, 'a reader cannot grant itself more')
  const why = await app.inject({ url: '/permissions/document/welcome/explain?kind=user&principal=bob&groups=staff&privilege=edit', headers: alice })
  t.equal(why.json().summary, 'denied: group staff holds read; the request needs edit')

  t.equal((await app.inject({ method: 'DELETE', url: `/documents/${id}`, headers: bob })).statusCode, 403)
  t.equal((await app.inject({ method: 'DELETE', url: `/documents/${id}`, headers: carol })).statusCode, 204)
  t.equal(await app.permissions.getOwner({ resource: 'document', id }), null, 'owner record removed with the document')
  t.equal((await app.inject({ url: `/documents/${id}`, headers: carol })).statusCode, 403)
})

t.test('a second start resets the demo, so what npm start prints holds again', async (t) => {
  const { app, auth, db, schema } = await exampleApp(t)
  const carol = auth({ sub: 'carol' })
  const share = await app.inject({
    method: 'POST', url: '/permissions/document/welcome/grants', headers: auth({ sub: 'alice', groups: ['staff'] }),
    payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
  })
  t.equal(share.statusCode, 201)
  t.equal((await app.inject({ url: '/documents/welcome', headers: carol })).statusCode, 200)
  await app.permissions.setOwner({ resource: 'document', id: 'welcome', owner: 'carol' })
  // What server.ts does on the next start, on the same database.
  await seedExample(app, db, schema)
  t.equal((await app.inject({ url: '/documents/welcome', headers: carol })).statusCode, 403, 'carol: no grant, as printed')
  t.equal(await app.permissions.getOwner({ resource: 'document', id: 'welcome' }), 'alice')
  t.equal((await app.inject({ url: '/documents/welcome', headers: auth({ sub: 'bob', groups: ['staff'] }) })).statusCode, 200)
})

t.test('projects hold folders, folders hold documents: a grant on the project reaches them, as npm start prints', async (t) => {
  const { app, auth, db, schema } = await exampleApp(t)
  const dave = auth({ sub: 'dave', groups: ['handbook-team'] })
  const bob = auth({ sub: 'bob', groups: ['staff'] })
  const alice = auth({ sub: 'alice', groups: ['staff'] })
  t.equal((await app.inject({ url: '/documents/leave', headers: dave })).statusCode, 200, 'read on project handbook reaches the document')
  t.equal((await app.inject({ url: '/documents/leave', headers: bob })).statusCode, 403)
  const ancestors = await app.inject({ url: '/permissions/document/leave/ancestors', headers: alice })
  t.same(ancestors.json().ancestors, [{ resource: 'folder', id: 'policies', depth: 1 }, { resource: 'project', id: 'handbook', depth: 2 }])
  const why = await app.inject({ url: '/permissions/document/leave/explain?kind=user&principal=dave&groups=handbook-team&privilege=read', headers: alice })
  t.match(why.json().summary, /project handbook.*through folder policies/)

  // Carol makes a project, a folder in it, a document in the folder; dave sees none of it until she shares the project.
  const carol = auth({ sub: 'carol' })
  const project = (await app.inject({ method: 'POST', url: '/projects', headers: carol, payload: { name: 'Mine' } })).json()
  const folder = await app.inject({ method: 'POST', url: `/projects/${project.id}/folders`, headers: carol, payload: { name: 'Drafts' } })
  t.equal(folder.statusCode, 201)
  const doc = await app.inject({ method: 'POST', url: '/documents', headers: carol, payload: { title: 't', body: 'b', folder: folder.json().id } })
  t.equal(doc.statusCode, 201)
  t.same(await app.permissions.getParent({ resource: 'document', id: doc.json().id }), { resource: 'folder', id: folder.json().id }, 'filed in the same transaction')
  t.equal((await app.inject({ method: 'POST', url: '/documents', headers: bob, payload: { title: 't', body: 'b', folder: folder.json().id } })).statusCode, 404, 'no document into a folder bob may not edit')
  t.equal((await app.inject({ method: 'POST', url: `/projects/${project.id}/folders`, headers: bob, payload: { name: 'x' } })).statusCode, 403)
  t.equal((await app.inject({ url: `/documents/${doc.json().id}`, headers: dave })).statusCode, 403)
  await app.inject({ method: 'POST', url: `/permissions/project/${project.id}/grants`, headers: carol, payload: { grantee: { kind: 'user', id: 'dave' }, privilege: 'read' } })
  t.equal((await app.inject({ url: `/documents/${doc.json().id}`, headers: dave })).statusCode, 200, 'one grant on the project')

  // A second start puts the handbook back as printed.
  await app.permissions.setParent({ resource: 'document', id: 'leave' }, null)
  await seedExample(app, db, schema)
  t.equal((await app.inject({ url: '/documents/leave', headers: dave })).statusCode, 200)
})
