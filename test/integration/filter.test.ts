// filter: the check as a condition in the host's own query, so that paging,
// sorting and counting happen in one query inside PostgreSQL.
import t from 'tap'
import { sql } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build } from '../helper.js'

const alice = userPrincipal('alice', ['staff'])
const read = { resource: 'document', privilege: 'read' as const }

async function withDocuments (t: Parameters<typeof build>[0], count: number) {
  const built = await build(t)
  const host = built.db.withSchema(built.schema)
  await host.schema.createTable('document').addColumn('id', 'text', (col) => col.primaryKey()).addColumn('title', 'text').execute()
  await host.insertInto('document').values(Array.from({ length: count }, (_, i) => ({ id: `d${String(i).padStart(3, '0')}`, title: `t${i}` }))).execute()
  return { ...built, host }
}

t.test('keeps exactly the rows the principal may read, inside the host query', async (t) => {
  const { app, host } = await withDocuments(t, 120)
  const p = app.permissions
  for (let i = 0; i < 120; i += 3) await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: `d${String(i).padStart(3, '0')}`, privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd001', privilege: 'read' })
  await p.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: 'd002', privilege: 'read' })
  await p.setOwner({ resource: 'document', id: 'd004', owner: 'alice' })
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd005', privilege: 'edit' })

  const visible = p.filter(alice, read, 'document.id')
  const all = (await host.selectFrom('document').select('id').where(visible).orderBy('id').execute()).map((r) => r.id)
  const expected = []
  for (let i = 0; i < 120; i++) {
    const id = `d${String(i).padStart(3, '0')}`
    if (await p.check(alice, { resource: 'document', id, privilege: 'read' })) expected.push(id)
  }
  t.same(all, expected, 'the same rows as check, one by one')
  t.ok(all.includes('d001') && all.includes('d002') && all.includes('d004') && !all.includes('d005'), 'group, anonymous and owner count; another privilege does not')

  // Keyset pages and a count, each one query.
  const page = async (after: string) => (await host.selectFrom('document').select('id')
    .where(p.filter(alice, read, 'document.id')).where('id', '>', after).orderBy('id').limit(10).execute()).map((r) => r.id)
  t.same(await page(''), expected.slice(0, 10))
  t.same(await page(expected[9] as string), expected.slice(10, 20))
  const { n } = await host.selectFrom('document').select(sql<number>`count(*)::int`.as('n')).where(p.filter(alice, read, 'document.id')).executeTakeFirstOrThrow()
  t.equal(n, expected.length, 'count(*) of the filtered set')

  t.same((await host.selectFrom('document').select('id').where(p.filter(p.anonymous, read, 'document.id')).execute()).map((r) => r.id), ['d002'], 'anonymous: what everyone may')
  t.equal((await host.selectFrom('document').select('id').where(p.filter(userPrincipal('root', [], true), read, 'id')).execute()).length, 120, 'a superuser: every row')
})

t.test('a type-level grant keeps every row; a column of another type is compared as text', async (t) => {
  const { app, host } = await withDocuments(t, 30)
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'read' })
  t.equal((await host.selectFrom('document').select('id').where(app.permissions.filter(alice, read, 'document.id')).execute()).length, 30)
  t.equal((await host.selectFrom('document').select('id').where(app.permissions.filter(userPrincipal('bob', []), read, 'document.id')).execute()).length, 0)

  await host.schema.createTable('ticket').addColumn('id', 'integer', (col) => col.primaryKey()).execute()
  await host.insertInto('ticket').values([{ id: 1 }, { id: 2 }, { id: 10 }]).execute()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'ticket', id: '10', privilege: 'read' })
  const tickets = await host.selectFrom('ticket').select('id')
    .where(app.permissions.filter(alice, { resource: 'ticket', privilege: 'read' }, sql.ref('ticket.id'))).execute()
  t.same(tickets.map((r) => r.id), [10])
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
    t.throws(() => app.permissions.filter(alice, target as never, column as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, name)
  }
})
