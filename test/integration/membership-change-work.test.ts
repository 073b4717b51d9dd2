// A membership change costs what it changes, not the number of paths: with
// groups d0…d11 each a member of every other and 300 users in d0, taking d0
// out of d2 moves 301 pairs (d0 and each of its users one step further from
// d2), and the closure's triggers write just those rows, where the first
// version rewrote every pair of every member below d0 (7,488 rows). Counted
// by the database itself, in the change's own transaction: no clock.
import t from 'tap'
import { sql, type Kysely } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { bindText, reachText } from '../../lib/store/predicates.js'
import { build } from '../helper.js'

interface Row { member_kind: string, member_id: string, group_id: string, distance: number }

async function dense (t: Parameters<typeof build>[0]) {
  const built = await build(t)
  await built.app.ready()
  const m = sql.id(built.schema, 'default_deny_membership')
  await sql`insert into ${m} (group_id, member_kind, member_id)
    select 'd' || i, 'group', 'd' || j from generate_series(0, 11) i, generate_series(0, 11) j where i <> j`.execute(built.db)
  await sql`insert into ${m} (group_id, member_kind, member_id) select 'd0', 'user', 'u' || i from generate_series(1, 300) i`.execute(built.db)
  const closure = async (db: Kysely<any>) => (await db.withSchema(built.schema).selectFrom('default_deny_membership_closure')
    .select(['member_kind', 'member_id', 'group_id', 'distance']).execute()) as Row[]
  // Rows this transaction inserted into and deleted from the closure so far.
  const written = async (db: Kysely<any>) => {
    const row = await sql<{ n: string | number }>`select n_tup_ins + n_tup_del + n_tup_upd as n from pg_stat_xact_user_tables
      where schemaname = ${built.schema} and relname = 'default_deny_membership_closure'`.execute(db)
    return Number(row.rows[0]?.n ?? 0)
  }
  return { ...built, closure, written }
}

const key = (row: Row) => `${row.member_kind}/${row.member_id}/${row.group_id}/${row.distance}`
/** Rows in one closure and not the other, either way. */
function difference (a: Row[], b: Row[]): number {
  const left = new Set(a.map(key))
  const right = new Set(b.map(key))
  return [...left].filter((k) => !right.has(k)).length + [...right].filter((k) => !left.has(k)).length
}

for (const change of ['removeMember', 'addMember'] as const) {
  t.test(`${change} of d0 in d2 writes only the closure rows that change`, async (t) => {
    const { app, db, closure, written } = await dense(t)
    if (change === 'addMember') await app.permissions.removeMember({ group: 'd2', member: { kind: 'group', id: 'd0' } })
    t.equal((await closure(db)).length, 3744, '312 members, each reaching the 12 groups')
    await db.transaction().execute(async (trx) => {
      const before = await closure(trx)
      const start = await written(trx)
      await app.permissions[change]({ group: 'd2', member: { kind: 'group', id: 'd0' } }, { db: trx })
      const rows = await written(trx) - start
      const after = await closure(trx)
      // d0 → d2 goes from 1 step to 2 (through another group) and back; its
      // users' from 2 to 3: a changed distance is one row out, one row in.
      t.equal(difference(before, after), 2 * 301, '301 pairs moved')
      t.ok(rows <= difference(before, after), `closure rows written (${rows}) no more than the rows that differ`)
      t.ok(rows > 0)
    })
  })
}

t.test('the dense world still reaches every group, at the shortest distance', async (t) => {
  const { app, db, closure } = await dense(t)
  await app.permissions.removeMember({ group: 'd2', member: { kind: 'group', id: 'd0' } })
  const rows = await closure(db)
  t.same(rows.filter((row) => row.member_id === 'u7').map((row) => [row.group_id, row.distance]).sort(),
    [['d0', 1], ['d1', 2], ['d10', 2], ['d11', 2], ['d2', 3], ['d3', 2], ['d4', 2], ['d5', 2], ['d6', 2], ['d7', 2], ['d8', 2], ['d9', 2]])
  t.same(rows.find((row) => row.member_id === 'd0' && row.group_id === 'd2')?.distance, 2)
  t.same(rows.find((row) => row.member_id === 'd0' && row.group_id === 'd0')?.distance, 2, 'd0 is in itself through any other group')
})

t.test('explain and the locks of a write read one row per group reached, not one per path', async (t) => {
  const { db, schema, app } = await dense(t)
  for (const via of [true, false]) {
    const text = `with recursive ${reachText({ schema, groupDepth: 8 }, '$1', '$2', via)} select count(*)::int as n from reach`
    const { rows } = await bindText<{ n: number }>(text, ['u1', ['d5']]).execute(db)
    t.equal(rows[0]?.n, 12, `${via ? 'with' : 'without'} via: the 12 groups, each once`)
  }
  t.same((await app.permissions.groupsOf(userPrincipal('u1', []))).find((g) => g.group === 'd2'), { group: 'd2', via: ['d0'], source: 'membership' })
})
