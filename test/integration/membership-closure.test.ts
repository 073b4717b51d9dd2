// The checks read a principal's stored groups from a closure table that
// triggers keep: it must be exact after every kind of change, made by the
// plugin or by plain SQL, and after concurrent changes.
import t from 'tap'
import { sql, type Kysely } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build, usingPostgres } from '../helper.js'
import { postgresKysely } from '../../lib/store/postgres.js'
import { eventually } from '../cache-helper.js'

async function setup (t: Parameters<typeof build>[0]) {
  const built = await build(t)
  await built.app.ready()
  const closure = async () => (await sql<{ member_kind: string, member_id: string, group_id: string, distance: number }>`
    select member_kind, member_id, group_id, distance from ${sql.id(built.schema, 'default_deny_membership_closure')}
    order by member_kind, member_id, group_id`.execute(built.db)).rows
  const readable = async (user: string, groups: string[] = []) =>
    await built.app.permissions.check(userPrincipal(user, groups), { resource: 'document', id: 'd1', privilege: 'read' })
  await built.app.permissions.grant({ grantee: { kind: 'group', id: 'top' }, resource: 'document', id: 'd1', privilege: 'read' })
  return { ...built, closure, readable, table: built.db.withSchema(built.schema) }
}

t.test('plain SQL inserts, updates, deletes and truncates keep the closure exact', async (t) => {
  const { table, closure, readable, db, schema } = await setup(t)
  await table.insertInto('default_deny_membership').values([
    { group_id: 'mid', member_kind: 'user', member_id: 'alice' },
    { group_id: 'top', member_kind: 'group', member_id: 'mid' }
  ]).execute()
  t.same(await closure(), [
    { member_kind: 'group', member_id: 'mid', group_id: 'top', distance: 1 },
    { member_kind: 'user', member_id: 'alice', group_id: 'mid', distance: 1 },
    { member_kind: 'user', member_id: 'alice', group_id: 'top', distance: 2 }
  ])
  t.equal(await readable('alice'), true)
  // An update moves alice from mid to a group that is in nothing.
  await table.updateTable('default_deny_membership').set({ group_id: 'side' }).where('member_id', '=', 'alice').execute()
  t.same(await closure(), [
    { member_kind: 'group', member_id: 'mid', group_id: 'top', distance: 1 },
    { member_kind: 'user', member_id: 'alice', group_id: 'side', distance: 1 }
  ])
  t.equal(await readable('alice'), false, 'moved out')
  // An update that renames the member: the old one loses everything, the new one gains it.
  await table.updateTable('default_deny_membership').set({ member_id: 'bob', group_id: 'mid' }).where('member_id', '=', 'alice').execute()
  t.equal(await readable('alice'), false)
  t.equal(await readable('bob'), true)
  await table.deleteFrom('default_deny_membership').where('group_id', '=', 'top').execute()
  t.equal(await readable('bob'), false, 'the middle link deleted')
  t.equal(await readable('carol', ['mid']), false, 'a token group reaches nothing either')
  await table.insertInto('default_deny_membership').values({ group_id: 'top', member_kind: 'group', member_id: 'mid' }).execute()
  t.equal(await readable('carol', ['mid']), true, 'a token group reaches top again')
  await sql`truncate ${sql.id(schema, 'default_deny_membership')}`.execute(db)
  t.same(await closure(), [])
  t.equal(await readable('bob'), false)
})

t.test('the shortest chain counts, and a shortcut added later shortens it', async (t) => {
  const { app, closure } = await setup(t)
  const add = async (group: string, kind: 'user' | 'group', id: string) => { await app.permissions.addMember({ group, member: { kind, id } }) }
  await add('a', 'user', 'u')
  await add('b', 'group', 'a')
  await add('c', 'group', 'b')
  t.match((await closure()).find((r) => r.member_id === 'u' && r.group_id === 'c'), { distance: 3 })
  await add('c', 'user', 'u')
  t.match((await closure()).find((r) => r.member_id === 'u' && r.group_id === 'c'), { distance: 1 })
  await app.permissions.removeMember({ group: 'c', member: { kind: 'user', id: 'u' } })
  t.match((await closure()).find((r) => r.member_id === 'u' && r.group_id === 'c'), { distance: 3 }, 'back to the long way')
})

t.test('a membership change under repeatable read is refused, and nothing is written', async (t) => {
  const { db, schema, app, closure } = await setup(t)
  await t.rejects(db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    await app.permissions.addMember({ group: 'top', member: { kind: 'user', id: 'eve' } }, { db: trx })
  }), /read committed or serializable/)
  t.same(await closure(), [])
  t.equal((await db.withSchema(schema).selectFrom('default_deny_membership').selectAll().execute()).length, 0)
})

t.test('two transactions changing linked memberships at once leave the closure exact', { skip: usingPostgres ? false : 'PostgreSQL only: PGlite has one connection' }, async (t) => {
  const { db, schema, readable } = await setup(t)
  const other: Kysely<any> = postgresKysely(process.env.DATABASE_URL as string, { max: 2 })
  t.teardown(async () => { await other.destroy() })
  const table = other.withSchema(schema)
  // T1 puts alice in mid and holds its transaction open; T2 puts mid in top meanwhile.
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  let inserted!: () => void
  const first = new Promise<void>((resolve) => { inserted = resolve })
  const t1 = other.transaction().execute(async (trx) => {
    await trx.withSchema(schema).insertInto('default_deny_membership').values({ group_id: 'mid', member_kind: 'user', member_id: 'alice' }).execute()
    inserted()
    await held
  })
  await first
  const t2 = table.insertInto('default_deny_membership').values({ group_id: 'top', member_kind: 'group', member_id: 'mid' }).execute()
  // T2 waits for T1's lock: once the server shows it waiting, let T1 commit,
  // then T2 computes from what T1 wrote.
  await eventually(async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where wait_event_type = 'Lock' and query like ${`%"${schema}"."default_deny_membership"%`}`.execute(db)
    return (rows[0]?.n ?? 0) > 0
  }, 10_000)
  release()
  await t1
  await t2
  t.equal(await readable('alice'), true, 'alice → mid → top, though each link was written by a different transaction')
})
