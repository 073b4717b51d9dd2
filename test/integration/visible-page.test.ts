// visible's page as one statement with a cheap plan: the question first says
// which sources of the merge hold anything, so the condition reads only those;
// on the plugin's pools a host's statement holding the condition is a named
// prepared statement (planned once per connection), unless it selects `*`.
import t from 'tap'
import { sql } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build } from '../helper.js'

const alice = userPrincipal('alice', ['staff'])
const read = { resource: 'document', privilege: 'read' as const }
const pad = (i: number) => `d${String(i).padStart(3, '0')}`

async function withDocuments (t: Parameters<typeof build>[0], count: number) {
  const built = await build(t)
  await sql`create table ${sql.id(built.schema, 'document')} (id text collate "C" primary key, title text)`.execute(built.db)
  await built.db.withSchema(built.schema).insertInto('document').values(Array.from({ length: count }, (_, i) => ({ id: pad(i), title: `t${i}` }))).execute()
  return built
}

t.test('a page holding the condition is a named statement of its connection, reused; one selecting * is not, and survives a new column', async (t) => {
  const { app, db, schema } = await withDocuments(t, 30)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: pad(7), privilege: 'read' })
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: pad(9), privilege: 'read' })
  const visible = await app.permissions.visible(alice, read, 'document.id')
  await db.connection().execute(async (conn) => {
    const host = conn.withSchema(schema)
    const named = async () => (await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements
      where statement like ${'%fastify-default-deny: page%'} and strpos(statement, ${schema}) > 0`.execute(conn)).rows[0]?.n
    const page = async () => (await host.selectFrom('document').select(['id', 'title']).where(visible).orderBy('id').limit(10).execute()).map((r) => r.id)
    t.same(await page(), [pad(7), pad(9)])
    t.equal(await named(), 1, 'named on this connection')
    t.same(await page(), [pad(7), pad(9)], 'the same rows again')
    t.equal(await named(), 1, 'the same statement, reused')
    const everything = async () => await host.selectFrom('document').selectAll().where(visible).orderBy('id').execute()
    t.same((await everything()).map((r) => r.id), [pad(7), pad(9)])
    t.equal(await named(), 1, 'select * is planned each time, not named')
    await sql`alter table ${sql.id(schema, 'document')} add column extra text`.execute(conn)
    t.same(await page(), [pad(7), pad(9)], 'the named page after a column was added')
    t.same(Object.keys((await everything())[0] ?? {}).sort(), ['extra', 'id', 'title'], 'select * sees the new column')
  })
})

t.test('what the principal holds nothing through is not read; a revocation after visible returns counts at once, a new way from the next call', async (t) => {
  const { app, db, schema } = await withDocuments(t, 30)
  const p = app.permissions
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: pad(1), privilege: 'read' })
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: pad(2), privilege: 'read' })
  const host = db.withSchema(schema)
  const rows = async (condition: Awaited<ReturnType<typeof p.visible>>) => (await host.selectFrom('document').select('id').where(condition).orderBy('id').execute()).map((r) => r.id)
  const visible = await p.visible(alice, read, 'document.id')
  const plan = (await host.selectFrom('document').select('id').where(visible).orderBy('id').limit(10).explain()).map((row) => String(row['QUERY PLAN'])).join('\n')
  t.match(plan, /default_deny_grant_holder_idx/, 'the user\'s grants are read')
  t.notMatch(plan, /default_deny_resource_owner_idx/, 'alice owns nothing: the owners are not read')
  t.same(await rows(visible), [pad(1), pad(2)])
  await p.revoke({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: pad(1), privilege: 'read' })
  t.same(await rows(visible), [pad(2)], 'the revoked grant no longer counts, in the condition read before')
  await p.setOwner({ resource: 'document', id: pad(3), owner: 'alice' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: pad(4), privilege: 'read' })
  t.same(await rows(visible), [pad(2)], 'ownership and a group\'s grant, ways she held nothing through: not in the condition read before')
  t.same(await rows(await p.visible(alice, read, 'document.id')), [pad(2), pad(3), pad(4)], 'the next call reads them')
  t.same(await rows(await p.visible(userPrincipal('bob', []), read, 'document.id')), [], 'nothing held: no row')
})

t.test('in a tree: one range below each project held or owned, still held when the page runs; past sixteen, the sorted form', async (t) => {
  const built = await build(t, { hierarchy: { types: { folder: { parents: ['project'] }, document: { parents: ['folder'] } } } })
  const { app, db, schema } = built
  const p = app.permissions
  await sql`create table ${sql.id(schema, 'document')} (id text collate "C" primary key, title text)`.execute(db)
  const host = db.withSchema(schema)
  // Twenty projects of one folder each, two documents in each folder.
  const docs: string[] = []
  for (let i = 0; i < 20; i++) {
    const project = `p${String(i).padStart(2, '0')}`
    await p.setParent({ resource: 'folder', id: `f${project}` }, { resource: 'project', id: project })
    for (const n of [0, 1]) {
      const id = `d${project}-${n}`
      docs.push(id)
      await p.setParent({ resource: 'document', id }, { resource: 'folder', id: `f${project}` })
    }
  }
  await host.insertInto('document').values(docs.map((id) => ({ id, title: id }))).execute()
  const rows = async (condition: Awaited<ReturnType<typeof p.visible>>) => (await host.selectFrom('document').select('id').where(condition).orderBy('id').execute()).map((r) => r.id)
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'project', id: 'p03', privilege: 'read' })
  await p.setOwner({ resource: 'folder', id: 'fp07', owner: 'alice' })
  const visible = await p.visible(alice, read, 'document.id')
  const plan = (await host.selectFrom('document').select('id').where(visible).orderBy('id').limit(10).explain()).map((row) => String(row['QUERY PLAN'])).join('\n')
  t.notMatch(plan, /->\s+Sort\s/, 'no sort of the resources below: a range below each, merged')
  t.match(plan, /One-Time Filter/, 'each range tested once for being still held')
  t.same(await rows(visible), ['dp03-0', 'dp03-1', 'dp07-0', 'dp07-1'], 'below the group\'s project and the folder she owns')
  t.same(await rows(await p.visible(alice, read, 'document.id', { after: 'dp03-1' })), ['dp07-0', 'dp07-1'], 'from a keyset bound')
  await p.revoke({ grantee: { kind: 'group', id: 'staff' }, resource: 'project', id: 'p03', privilege: 'read' })
  await p.setOwner({ resource: 'folder', id: 'fp07', owner: null })
  t.same(await rows(visible), [], 'revoked and handed over after visible returned: gone at once')
  // More projects than get a range of their own: the same rows, read sorted together.
  for (let i = 0; i < 18; i++) await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'project', id: `p${String(i).padStart(2, '0')}`, privilege: 'read' })
  t.same(await rows(await p.visible(alice, read, 'document.id')), docs.filter((id) => id < 'dp18'), 'eighteen projects: every document below them')
  t.same(await rows(await p.visible(alice, read, 'document.id')), await rows(p.filter(alice, read, 'document.id')), 'the rows filter keeps')
})
