// The grant API's routes for hierarchies: PUT parent (status, body,
// revision header, rows, one audit entry; refusals with field and in,
// nothing written), GET ancestors and children (paged, managers only), and
// a resource's grant listing showing what it inherits and from where.
import t from 'tap'
import { REVISION_HEADER } from '../../lib/revision.js'
import { build, snapshot } from '../helper.js'

const HIERARCHY = {
  types: {
    project: { parents: ['org'] },
    folder: { parents: ['project', 'folder'] },
    document: { parents: ['folder'] }
  }
}

async function setup (t: Parameters<typeof build>[0], options: Record<string, unknown> = { hierarchy: HIERARCHY }) {
  const built = await build(t, { superuserClaim: 'su', ...options })
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'read')
  await built.app.ready()
  const p = built.app.permissions
  for (const [resource, id] of [['project', 'p1'], ['folder', 'f1'], ['folder', 'f2'], ['document', 'd1']]) {
    await p.setOwner({ resource: resource as string, id: id as string, owner: 'olga' })
  }
  const parentOf = async (resource: string, id: string) => await built.db.withSchema(built.schema).selectFrom('default_deny_resource')
    .select(['parent_type', 'parent_id']).where('resource_type', '=', resource).where('resource_id', '=', id).executeTakeFirst()
  const put = async (url: string, payload: unknown, who = 'olga', extra: Record<string, unknown> = {}) =>
    await built.app.inject({ method: 'PUT', url: `/permissions${url}/parent`, headers: built.as(who, extra), payload: payload as object })
  return { ...built, p, parentOf, put }
}

t.test('PUT parent: 200 with the parent before and after, the revision header, the row, one audit entry', async (t) => {
  const { app, as, p, parentOf, put } = await setup(t)
  const moved = await put('/folder/f1', { parent: { resource: 'project', id: 'p1' }, reason: 'filing' })
  t.equal(moved.statusCode, 200, moved.body)
  t.same(moved.json(), { parent: { resource: 'project', id: 'p1' }, before: null })
  t.match(moved.headers[REVISION_HEADER], /^\S+$/, 'the revision of the change')
  t.same(await parentOf('folder', 'f1'), { parent_type: 'project', parent_id: 'p1' })
  const [entry] = await p.audit({ limit: 1 })
  t.match(entry, { action: 'parent', actor: 'olga', resource: 'folder', id: 'f1', before: [], after: ['project/p1'], reason: 'filing' })

  t.equal((await put('/document/d1', { parent: { resource: 'folder', id: 'f1' } })).statusCode, 200)
  const ancestors = await app.inject({ url: '/permissions/document/d1/ancestors', headers: as('olga') })
  t.equal(ancestors.statusCode, 200)
  t.same(ancestors.json(), { resource: 'document', id: 'd1', ancestors: [{ resource: 'folder', id: 'f1', depth: 1 }, { resource: 'project', id: 'p1', depth: 2 }] })

  // A grant on the project reaches the document on the next request.
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 403)
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'project', id: 'p1', privilege: 'read' })
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 200, 'inherited through folder f1')
  const explained = await app.inject({ url: '/permissions/document/d1/explain?kind=user&principal=carol&privilege=read', headers: as('olga') })
  t.equal(explained.statusCode, 200, explained.body)
  t.match(explained.json(), {
    decision: 'allow',
    privileges: [{ privilege: 'read', via: [{ source: 'user', ancestor: { resource: 'project', id: 'p1' }, through: [{ resource: 'folder', id: 'f1' }] }] }]
  }, 'the grant API explains where an inherited grant is held and the path down from it')

  const again = await put('/document/d1', { parent: { resource: 'folder', id: 'f1' } })
  t.same(again.json(), { parent: { resource: 'folder', id: 'f1' }, before: { resource: 'folder', id: 'f1' } }, 'the same parent again')
  t.equal((await p.audit({ limit: 10 })).filter((e) => e.action === 'parent').length, 2, 'changes nothing, audits nothing')

  const cleared = await put('/document/d1', { parent: null })
  t.same(cleared.json(), { parent: null, before: { resource: 'folder', id: 'f1' } })
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 403, 'out of the tree, the project grant no longer counts')
})

t.test('PUT parent refusals: 400 naming the field and where it is, nothing written, nothing audited', async (t) => {
  const { db, schema, put } = await setup(t)
  t.equal((await put('/folder/f2', { parent: { resource: 'folder', id: 'f1' } })).statusCode, 200)
  const before = await snapshot(db, schema)
  const cases: Array<[string, unknown, string, string, RegExp]> = [
    ['/document/d1', { parent: { resource: 'project', id: 'p1' } }, '/parent/resource', 'body', /document may be placed under folder, not under a project/],
    ['/folder/f1', { parent: { resource: 'folder', id: 'f2' } }, '/parent', 'body', /would be its own ancestor/],
    ['/folder/f1', { parent: { resource: 'folder', id: 'f1' } }, '/parent', 'body', /own ancestor/],
    ['/document/d1', { parent: { resource: 'foldr', id: 'f1' } }, '/parent/resource', 'body', /"foldr" is not a known resource type \(did you mean "folder"\?\)/],
    ['/document/d1', {}, '/parent', 'body', /parent is required/],
    ['/document/d1', { parent: { resource: 'folder' } }, '/parent', 'body', /./],
    ['/document/d1', { parent: null, extra: 1 }, '/extra', 'body', /not a known property/]
  ]
  for (const [url, payload, field, where, message] of cases) {
    const res = await put(url, payload)
    t.equal(res.statusCode, 400, `${url} ${JSON.stringify(payload)}: ${res.body}`)
    t.match(res.json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', field, in: where, message }, JSON.stringify(payload))
  }
  t.same(await snapshot(db, schema), before, 'no row changed, no audit entry')
})

t.test('PUT parent: only a manager of the resource and of the new parent may move it; 403, nothing written', async (t) => {
  const { db, schema, p, put } = await setup(t)
  await p.setOwner({ resource: 'document', id: 'd9', owner: 'mallory' })
  const before = await snapshot(db, schema)
  const intoForeign = await put('/document/d9', { parent: { resource: 'folder', id: 'f1' } }, 'mallory')
  t.equal(intoForeign.statusCode, 403, 'mallory manages d9 but not folder f1')
  t.equal(intoForeign.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
  const notMine = await put('/document/d1', { parent: { resource: 'folder', id: 'f1' } }, 'carol')
  t.equal(notMine.statusCode, 403, 'carol manages neither')
  t.same(await snapshot(db, schema), before)
  // A manager of the project manages what is inside it.
  await p.setParent({ resource: 'folder', id: 'f1' }, { resource: 'project', id: 'p1' })
  await p.grant({ grantee: { kind: 'user', id: 'mia' }, resource: 'project', id: 'p1', privilege: 'manage' })
  await p.setOwner({ resource: 'document', id: 'd5', owner: 'mia' })
  t.equal((await put('/document/d5', { parent: { resource: 'folder', id: 'f1' } }, 'mia')).statusCode, 200, 'manage on the project counts on its folder')
  t.equal((await put('/document/d1', { parent: null }, 'root', { su: true })).statusCode, 200, 'a superuser may')
})

t.test('GET children: a keyset page at a time, to managers only; a bad cursor is a 400', async (t) => {
  const { app, as, p } = await setup(t)
  for (const id of ['d5', 'd3', 'd1', 'd4', 'd2']) await p.setParent({ resource: 'document', id }, { resource: 'folder', id: 'f1' })
  await p.setParent({ resource: 'folder', id: 'f2' }, { resource: 'folder', id: 'f1' })
  const page = async (query: string, who = 'olga') => await app.inject({ url: `/permissions/folder/f1/children${query}`, headers: as(who) })
  const first = await page('?limit=4')
  t.equal(first.statusCode, 200)
  t.same(first.json().children, ['d1', 'd2', 'd3', 'd4'].map((id) => ({ resource: 'document', id })), 'by type, then id')
  t.type(first.json().next, 'string')
  const second = await page(`?limit=4&after=${encodeURIComponent(first.json().next)}`)
  t.same(second.json(), { resource: 'folder', id: 'f1', children: [{ resource: 'document', id: 'd5' }, { resource: 'folder', id: 'f2' }], next: null })
  t.match((await page('?after=nonsense')).json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', field: '/after', in: 'query' })
  t.match((await page('?limit=0')).json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', field: '/limit', in: 'query' })
  t.equal((await page('', 'carol')).statusCode, 403, 'carol may not read the grants of f1')
  t.equal((await app.inject({ url: '/permissions/folder/f1/ancestors', headers: as('carol') })).statusCode, 403)
})

t.test("a resource's grant listing shows what it inherits, and from which ancestor", async (t) => {
  const { app, as, p } = await setup(t)
  await p.setParent({ resource: 'folder', id: 'f1' }, { resource: 'project', id: 'p1' })
  await p.setParent({ resource: 'document', id: 'd1' }, { resource: 'folder', id: 'f1' })
  await p.setOwner({ resource: 'project', id: 'p1', owner: 'paula' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'project', id: 'p1', privilege: 'edit' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'folder', id: 'f1', privilege: 'read' })
  await p.grant({ grantee: { kind: 'user', id: 'dan' }, resource: 'document', id: 'd1', privilege: 'read' })
  const res = await app.inject({ url: '/permissions/document/d1/grants', headers: as('olga') })
  t.equal(res.statusCode, 200)
  const rows: Array<[string | undefined, string, string, { depth: number } | null]> = res.json().grants.map((g: { grantee: { id?: string }, privilege: string, source: string, from?: { depth: number } }) =>
    [g.grantee.id, g.privilege, g.source, g.from ?? null])
  const has = (row: unknown[]) => rows.some((r) => JSON.stringify(r) === JSON.stringify(row))
  for (const row of [
    ['dan', 'read', 'explicit', null],
    ['carol', 'read', 'ancestor', { resource: 'folder', id: 'f1', depth: 1, owner: false }],
    ['olga', 'manage', 'ancestor', { resource: 'folder', id: 'f1', depth: 1, owner: true }],
    ['paula', 'manage', 'ancestor', { resource: 'project', id: 'p1', depth: 2, owner: true }],
    ['staff', 'edit', 'ancestor', { resource: 'project', id: 'p1', depth: 2, owner: false }]
  ]) t.ok(has(row), JSON.stringify(row))
  const depths = rows.filter((r) => r[3] !== null).map((r) => (r[3] as { depth: number }).depth)
  t.same(depths, [...depths].sort(), 'nearest ancestor first')
  t.notOk(rows.some((r) => r[0] === 'olga' && r[2] === 'ancestor' && JSON.stringify(r[3]).includes('project')), 'the project is paula\'s now')
})

t.test('without the hierarchy option the tree routes do not exist', async (t) => {
  const { app, as } = await setup(t, { resources: 'any' })
  const res = await app.inject({ method: 'PUT', url: '/permissions/document/d1/parent', headers: as('olga'), payload: { parent: null } })
  t.equal(res.statusCode, 404)
  t.equal((await app.inject({ url: '/permissions/document/d1/ancestors', headers: as('olga') })).statusCode, 404)
})
