// Inheritance down a resource hierarchy: grants and ownership on an ancestor
// count on everything below it (through every decision form), per-edge
// restrictions stop what they name, type-level grants do not flow down,
// explain names the path, the grant API delegates and guards the last
// manager with inherited rights, and the decision cache never serves an
// answer a move has changed.
import t from 'tap'
import type { HierarchyOptions, Principal } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { cacheOn, eventually } from '../cache-helper.js'

const HIERARCHY: HierarchyOptions = {
  types: {
    document: { parents: ['folder', { type: 'project', inherits: ['read', 'edit'] }] },
    folder: { parents: ['folder', 'project'] },
    project: { parents: ['org'] }
  }
}
const at = (resource: string, id: string) => ({ resource, id })
const user = (id: string, groups: string[] = []): Principal => ({ kind: 'user', id, groups, superuser: false, claims: {} })

async function app (t: Parameters<typeof build>[0], extra: Record<string, unknown> = {}) {
  const built = await build(t, { hierarchy: HIERARCHY, implies: { manage: ['read', 'edit', 'delete'], edit: ['read'] }, ...extra })
  let ran = 0
  for (const [method, privilege] of [['GET', 'read'], ['PUT', 'edit'], ['DELETE', 'manage']] as const) {
    built.app.route({ method, url: '/d/:id', config: { permission: { resource: 'document', privilege } }, handler: async () => { ran++; return privilege } })
  }
  await built.app.ready()
  const get = async (id: string, sub: string, method: 'GET' | 'PUT' | 'DELETE' = 'GET', extraClaims: Record<string, unknown> = {}) =>
    (await built.app.inject({ method, url: `/d/${id}`, headers: built.as(sub, extraClaims) })).statusCode
  return { ...built, get, ran: () => ran }
}

// org o1 > project p1 > folder f1 > folder f2 > folder f3 > document d9 (5 levels above d9)
async function tree (p: Awaited<ReturnType<typeof app>>['app']['permissions']) {
  await p.setParent(at('project', 'p1'), at('org', 'o1'))
  await p.setParent(at('folder', 'f1'), at('project', 'p1'))
  await p.setParent(at('folder', 'f2'), at('folder', 'f1'))
  await p.setParent(at('folder', 'f3'), at('folder', 'f2'))
  await p.setParent(at('document', 'd9'), at('folder', 'f3'))
  await p.setParent(at('document', 'd1'), at('project', 'p1'))
}

t.test('a grant five levels up counts on the route check, check, checkMany, filter and listIds; a move takes effect on the next request', async (t) => {
  const { app: server, get, ran, db, schema } = await app(t)
  const p = server.permissions
  await tree(p)
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'org', id: 'o1', privilege: 'edit' })
  t.equal(await get('d9', 'sam', 'GET', { groups: ['staff'] }), 200, 'read through edit implies read, five levels up')
  t.equal(await get('d9', 'sam', 'PUT', { groups: ['staff'] }), 200)
  t.equal(await get('d9', 'sam', 'DELETE', { groups: ['staff'] }), 403, 'edit does not give manage')
  t.equal(await get('d9', 'bob'), 403, 'someone else has nothing')
  const sam = user('sam', ['staff'])
  t.equal(await p.check(sam, { resource: 'document', id: 'd9', privilege: 'edit' }), true)
  t.same(await p.checkMany(sam, { resource: 'document', privilege: 'read', ids: ['d9', 'd1', 'dx'] }), [true, true, false])
  t.same(await p.listIds(sam, { resource: 'document', privilege: 'read' }), { ids: ['d1', 'd9'], next: null, all: false })
  t.same(await p.listIds(sam, { resource: 'folder', privilege: 'read' }), { ids: ['f1', 'f2', 'f3'], next: null, all: false })
  await db.schema.withSchema(schema).createTable('docs').addColumn('id', 'text').execute()
  await db.withSchema(schema).insertInto('docs').values([{ id: 'd1' }, { id: 'd9' }, { id: 'dx' }]).execute()
  const kept = await db.withSchema(schema).selectFrom('docs').select('id')
    .where(p.filter(sam, { resource: 'document', privilege: 'read' }, 'docs.id')).orderBy('id').execute()
  t.same(kept.map((r) => r.id), ['d1', 'd9'])

  // Moving f2 (and with it f3 and d9) into another project takes it out of o1's reach.
  await p.setParent(at('folder', 'f2'), at('project', 'p2'))
  const handled = ran()
  t.equal(await get('d9', 'sam', 'GET', { groups: ['staff'] }), 403, 'denied on the very next request')
  t.equal(ran(), handled, 'handler not run')
  t.same(await p.listIds(sam, { resource: 'document', privilege: 'read' }), { ids: ['d1'], next: null, all: false })
  await p.setParent(at('project', 'p2'), at('org', 'o1'))
  t.equal(await get('d9', 'sam', 'GET', { groups: ['staff'] }), 200, 'and back in once p2 is under o1')
})

t.test('ownership of an ancestor flows down like a grant; type-level grants do not', async (t) => {
  const { app: server, get } = await app(t)
  const p = server.permissions
  await tree(p)
  await p.setOwner({ resource: 'folder', id: 'f1', owner: 'olga' })
  t.equal(await get('d9', 'olga'), 200)
  t.equal(await get('d9', 'olga', 'DELETE'), 200, 'owners hold manage through folders, which restrict nothing')
  t.equal(await get('d1', 'olga'), 403, 'd1 is not below f1')
  await p.grant({ grantee: { kind: 'user', id: 'tess' }, resource: 'project', id: null, privilege: 'read' })
  t.equal(await p.check(user('tess'), { resource: 'project', id: 'p1', privilege: 'read' }), true, 'a type-level grant counts on every project')
  t.equal(await get('d1', 'tess'), 403, 'but not on what is below them')
  t.same(await p.listIds(user('tess'), { resource: 'document', privilege: 'read' }), { ids: [], next: null, all: false })
})

t.test('a restricted edge stops what it does not list: manage on a project is read and edit on its documents, not manage', async (t) => {
  const { app: server, get } = await app(t)
  const p = server.permissions
  await tree(p)
  await p.grant({ grantee: { kind: 'user', id: 'mia' }, resource: 'project', id: 'p1', privilege: 'manage' })
  t.equal(await get('d1', 'mia'), 200, 'read through implies across the restricted edge')
  t.equal(await get('d1', 'mia', 'PUT'), 200)
  t.equal(await get('d1', 'mia', 'DELETE'), 403, 'manage does not cross document>project')
  t.equal(await get('d9', 'mia', 'DELETE'), 200, 'through folders (no restriction) it does')
  t.same(await p.checkMany(user('mia'), { resource: 'document', privilege: 'manage', ids: ['d1', 'd9'] }), [false, true])
  t.same(await p.listIds(user('mia'), { resource: 'document', privilege: 'manage' }), { ids: ['d9'], next: null, all: false })
  await p.setOwner({ resource: 'project', id: 'p1', owner: 'oona' })
  t.equal(await get('d1', 'oona', 'DELETE'), 403, 'an owner above is stopped by the same edge')
  t.equal(await get('d1', 'oona', 'PUT'), 200)
})

t.test('explain names the path', async (t) => {
  const { app: server } = await app(t)
  const p = server.permissions
  await p.setParent(at('folder', 'f2'), at('project', 'p1'))
  await p.setParent(at('document', 'd9'), at('folder', 'f2'))
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'project', id: 'p1', privilege: 'edit' })
  const why = await p.explain(user('sam', ['staff']), { resource: 'document', id: 'd9', privilege: 'edit' })
  t.equal(why.summary, 'allowed: group staff holds edit on project p1, ancestor of document d9 (through folder f2)')
  t.match(why.privileges.find((e) => e.privilege === 'edit')?.via, [{ source: 'group', ancestor: at('project', 'p1'), through: [at('folder', 'f2')] }])
  await p.setOwner({ resource: 'folder', id: 'f2', owner: 'olga' })
  t.equal((await p.explain(user('olga'), { resource: 'document', id: 'd9', privilege: 'manage' })).summary,
    'allowed: owns folder f2, ancestor of document d9 (owners hold manage)')
  const denied = await p.explain(user('sam', ['staff']), { resource: 'document', id: 'd9', privilege: 'manage' })
  t.equal(denied.summary, 'denied: group staff holds edit on project p1, ancestor of document d9 (through folder f2); the request needs manage')
})

t.test('the grant API: a manager above manages below, grants no more than it holds, and inherited managers count for the last-manager guard', async (t) => {
  const { app: server, as } = await app(t, { superuserClaim: 'su' })
  const p = server.permissions
  await tree(p)
  await p.grant({ grantee: { kind: 'user', id: 'max' }, resource: 'folder', id: 'f1', privilege: 'manage' })
  await p.grant({ grantee: { kind: 'user', id: 'eve' }, resource: 'folder', id: 'f1', privilege: 'edit' })
  const post = (sub: string, id: string, privilege: string, grantee = 'carol') =>
    server.inject({ method: 'POST', url: `/permissions/document/${id}/grants`, headers: as(sub), payload: { grantee: { kind: 'user', id: grantee }, privilege } })
  t.equal((await post('max', 'd9', 'edit')).statusCode, 201, 'a manager of a folder above grants on the document')
  t.equal((await post('eve', 'd9', 'read')).statusCode, 403, 'edit above does not make a manager')
  t.equal((await post('max', 'd1', 'read')).statusCode, 403, 'd1 is not below f1')
  const before = await p.audit({ limit: 1000 })
  // With delegation off, a manager never hands out manage (inherited or not).
  t.equal((await post('max', 'd9', 'manage')).statusCode, 403)
  t.equal((await p.audit({ limit: 1000 })).length, before.length, 'nothing audited for a refusal')

  // The last-manager guard: the document's own manager may leave while one above remains.
  await p.grant({ grantee: { kind: 'user', id: 'dora' }, resource: 'document', id: 'd9', privilege: 'manage' })
  const root = as('root', { su: true })
  const leave = await server.inject({ method: 'DELETE', url: '/permissions/document/d9/grants/user/dora/manage', headers: root })
  t.equal(leave.statusCode, 200, 'max above still manages d9')
  const last = await server.inject({ method: 'DELETE', url: '/permissions/folder/f1/grants/user/max/manage', headers: root })
  t.equal(last.statusCode, 409, 'but f1 has nobody else')
  t.equal(last.json().code, 'FST_DEFAULT_DENY_LAST_MANAGER')
  await p.grant({ grantee: { kind: 'user', id: 'dora' }, resource: 'document', id: 'd1', privilege: 'manage' })
  const nobodyAbove = await server.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/dora/manage', headers: root })
  t.equal(nobodyAbove.statusCode, 409, 'd1 has no manager above')
  await p.grant({ grantee: { kind: 'user', id: 'pam' }, resource: 'project', id: 'p1', privilege: 'manage' })
  t.equal((await server.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/dora/manage', headers: root })).statusCode, 409,
    'a manager of the project does not manage d1 across the edge that stops manage')
})

t.test('the decision cache never serves an answer a move or a grant above has changed', async (t) => {
  const { app: server, get, db, schema } = await app(t, cacheOn())
  const p = server.permissions
  const stats = () => p.cacheStats() as NonNullable<ReturnType<typeof p.cacheStats>>
  await tree(p)
  await p.grant({ grantee: { kind: 'user', id: 'sam' }, resource: 'project', id: 'p1', privilege: 'read' })
  t.equal(await get('d9', 'sam'), 200)
  // Once the feed has echoed the writes above, the answer is served from the cache.
  await eventually(async () => {
    const hits = stats().hits
    t.equal(await get('d9', 'sam'), 200)
    return stats().hits > hits
  })
  await p.setParent(at('folder', 'f1'), at('project', 'p2'))
  t.equal(await get('d9', 'sam'), 403, 'a move acknowledged here drops what it changed')
  t.equal(await get('d9', 'sam'), 403)
  await p.grant({ grantee: { kind: 'user', id: 'sam' }, resource: 'project', id: 'p2', privilege: 'read' })
  t.equal(await get('d9', 'sam'), 200, 'a grant on an ancestor reaches the cached denial')
  t.equal(await get('d9', 'sam'), 200)
  // A move in plain SQL, heard through the change feed.
  const heard = stats().invalidations
  await db.withSchema(schema).updateTable('default_deny_resource').set({ parent_type: 'project', parent_id: 'p3' }).where('resource_id', '=', 'f1').execute()
  await eventually(() => stats().invalidations > heard)
  t.equal(await get('d9', 'sam'), 403, 'a plain SQL move, once heard, is never answered from before it')
})
