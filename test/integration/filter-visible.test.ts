// visible: filter with the wide grant read first, so that the condition is
// the set of ids the principal holds, joined to the host's rows (read from
// the grants in id order) instead of a test of every row. Same rows as
// filter, on every path.
import t from 'tap'
import { sql } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build } from '../helper.js'

// More token groups than the merge gives a range of their own: staff's grants come through the shared one.
const alice = userPrincipal('alice', ['g1', 'g2', 'g3', 'g4', 'g5', 'staff'])
const read = { resource: 'document', privilege: 'read' as const }
const pad = (i: number) => `d${String(i).padStart(3, '0')}`

async function withDocuments (t: Parameters<typeof build>[0], count: number) {
  const built = await build(t)
  const host = built.db.withSchema(built.schema)
  // Byte order, as the plugin keeps ids: what lets a keyset page be read in the grants' order.
  await sql`create table ${sql.id(built.schema, 'document')} (id text collate "C" primary key, title text)`.execute(built.db)
  await host.insertInto('document').values(Array.from({ length: count }, (_, i) => ({ id: pad(i), title: `t${i}` }))).execute()
  return { ...built, host }
}

t.test('keeps the rows filter keeps: pages, a count, every kind of grantee and the owner', async (t) => {
  const { app, host } = await withDocuments(t, 200)
  const p = app.permissions
  for (let i = 0; i < 200; i += 7) await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: pad(i), privilege: 'read' })
  for (let i = 3; i < 200; i += 11) await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: pad(i), privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'g2' }, resource: 'document', id: pad(1), privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: pad(0), privilege: 'read' })
  await p.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: pad(2), privilege: 'read' })
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: pad(5), privilege: 'edit' })
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'gone', privilege: 'read' })
  await p.setOwner({ resource: 'document', id: pad(4), owner: 'alice' })

  const all = async (condition: ReturnType<typeof p.filter>) => (await host.selectFrom('document').select('id').where(condition).orderBy('id').execute()).map((r) => r.id)
  const expected = await all(p.filter(alice, read, 'document.id'))
  t.ok(expected.length > 40 && expected.includes(pad(1)) && expected.includes(pad(2)) && expected.includes(pad(4)) && !expected.includes(pad(5)), 'the world has every kind of grant')
  const visible = await p.visible(alice, read, 'document.id')
  t.same(await all(visible), expected, 'the same rows as filter')

  const page = async (after: string) => (await host.selectFrom('document').select('id')
    .where(visible).where('id', '>', after).orderBy('id').limit(10).execute()).map((r) => r.id)
  t.same(await page(''), expected.slice(0, 10), 'a keyset page')
  t.same(await page(expected[9] as string), expected.slice(10, 20), 'the next page')
  // With the keyset's bound given, the grants are read from there: the same pages.
  for (const after of ['', expected[9] as string, expected[expected.length - 2] as string, 'zzz']) {
    const bounded = await p.visible(alice, read, 'document.id', { after })
    const rows = (await host.selectFrom('document').select('id').where(bounded).where('id', '>', after).orderBy('id').limit(10).execute()).map((r) => r.id)
    t.same(rows, expected.filter((id) => id > after).slice(0, 10), `after ${JSON.stringify(after)}`)
  }
  const listed: string[] = []
  for (let after = '', more = true; more;) {
    const next = await p.listIds(alice, { ...read, after, limit: 7 })
    listed.push(...next.ids)
    more = next.next !== null
    after = next.next ?? ''
  }
  t.same(listed, [...expected, 'gone'].sort(), 'listIds pages through the same ids (and one no row has), seven at a time')
  const { n } = await host.selectFrom('document').select(sql<number>`count(*)::int`.as('n')).where(visible).executeTakeFirstOrThrow()
  t.equal(n, expected.length, 'count(*) of the filtered set')
  t.same(await all(await p.visible(userPrincipal('bob', []), read, 'document.id')), [pad(2)], 'no grant of his own: what everyone may')
  // More groups than get a range of their own even when they are known: the others share one.
  const crowded = userPrincipal('alice', [...Array.from({ length: 18 }, (_, i) => `x${i}`), 'staff', 'g2'])
  t.same(await all(await p.visible(crowded, read, 'document.id')), await all(p.filter(crowded, read, 'document.id')), 'twenty groups: the same rows as filter')
  t.same(await all(await p.visible(p.anonymous, read, sql.ref('document.id'))), [pad(2)], 'anonymous: what everyone may')
})

t.test('the condition is a join PostgreSQL can drive from the grants, not a test of every row', async (t) => {
  const { app, host, db, schema } = await withDocuments(t, 50)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: pad(7), privilege: 'read' })
  const visible = await app.permissions.visible(alice, read, 'document.id')
  const plan = (await host.selectFrom('document').select(['id', 'title']).where(visible).where('id', '>', '').orderBy('id').limit(10).explain())
    .map((row) => String(row['QUERY PLAN'])).join('\n')
  t.notMatch(plan, /SubPlan/, 'no subplan run per row or hashed up front')
  t.match(plan, /default_deny_grant_holder_idx/, 'the holder index serves the grants')
  t.same((await db.withSchema(schema).selectFrom('document').select('id').where(visible).execute()).map((r) => r.id), [pad(7)])
  const filterPlan = (await host.selectFrom('document').select('id').where(app.permissions.filter(alice, read, 'document.id')).explain())
    .map((row) => String(row['QUERY PLAN'])).join('\n')
  t.match(filterPlan, /SubPlan/, 'filter, which must also hold for a wide grant, is a test of each row')
})

t.test('a type-level grant or a superuser: every row, with no condition on it', async (t) => {
  const { app, host } = await withDocuments(t, 30)
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'read' })
  const count = async (condition: ReturnType<typeof app.permissions.filter>) => (await host.selectFrom('document').select('id').where(condition).execute()).length
  const wide = await app.permissions.visible(alice, read, 'document.id')
  t.equal(await count(wide), 30)
  t.notMatch((await host.selectFrom('document').select('id').where(wide).explain()).map((row) => String(row['QUERY PLAN'])).join('\n'), /default_deny/, 'no grant is read for the rows')
  t.equal(await count(await app.permissions.visible(userPrincipal('root', [], true), read, 'document.id')), 30)
  t.equal(await count(await app.permissions.visible(userPrincipal('bob', []), read, 'document.id')), 0)
})

t.test('inside a host transaction it reads what the transaction wrote; a rollback leaves nothing', async (t) => {
  const { app, host, db, schema } = await withDocuments(t, 20)
  await t.rejects(db.transaction().execute(async (trx) => {
    await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: null, privilege: 'read' }, { db: trx })
    const visible = await app.permissions.visible(alice, read, 'document.id', { db: trx })
    t.equal((await trx.withSchema(schema).selectFrom('document').select('id').where(visible).execute()).length, 20, 'the uncommitted type-level grant counts in the transaction')
    throw new Error('roll back')
  }), { message: 'roll back' })
  t.equal((await host.selectFrom('document').select('id').where(await app.permissions.visible(alice, read, 'document.id')).execute()).length, 0, 'rolled back: nothing')
})

t.test('bad input is refused with INVALID_GRANT', async (t) => {
  const { app } = await build(t)
  const cases: Array<[string, unknown, unknown]> = [
    ['unknown privilege', { resource: 'document', privilege: 'write' }, 'id'],
    ['no resource', { privilege: 'read' }, 'id'],
    ['an empty column', read, ''],
    ['not a column', read, 42]
  ]
  for (const [name, target, column] of cases) {
    await t.rejects(app.permissions.visible(alice, target as never, column as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, name)
  }
  await t.rejects(app.permissions.visible(alice, read, 'id', { after: 'a\u0000' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, 'after with NUL')
})
