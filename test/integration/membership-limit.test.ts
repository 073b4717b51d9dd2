// One membership change may reach at most maxMembershipChange member–group
// pairs: a larger one is refused (422, a stable code, a message naming the
// limit) before anything is written or audited, through the grant API and
// the service API alike.
import t from 'tap'
import { sql } from 'kysely'
import { codes } from '../../lib/index.js'
import { build } from '../helper.js'

async function setup (t: Parameters<typeof build>[0], options: Record<string, unknown> = {}) {
  const built = await build(t, { superuserClaim: 'su', ...options })
  await built.app.ready()
  // olga manages "team"; "crowd" holds 60 users, "few" holds 10.
  await built.app.permissions.setOwner({ resource: 'group', id: 'team', owner: 'olga' })
  const m = sql.id(built.schema, 'default_deny_membership')
  await sql`insert into ${m} (group_id, member_kind, member_id)
    select 'crowd', 'user', 'c' || i from generate_series(1, 60) i
    union all select 'few', 'user', 'f' || i from generate_series(1, 10) i`.execute(built.db)
  const state = async () => {
    const scoped = built.db.withSchema(built.schema)
    return {
      members: await scoped.selectFrom('default_deny_membership').select(['group_id', 'member_kind', 'member_id']).orderBy('group_id').orderBy('member_id').execute(),
      closure: await scoped.selectFrom('default_deny_membership_closure').selectAll().orderBy('member_kind').orderBy('member_id').orderBy('group_id').execute(),
      audit: (await scoped.selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n
    }
  }
  return { ...built, state, m }
}

t.test('a change over the limit is refused with 422 and writes nothing; one under it goes through', async (t) => {
  const { app, as, state } = await setup(t, { maxMembershipChange: 50 })
  const before = await state()
  const refused = await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/group/crowd', headers: as('olga') })
  t.equal(refused.statusCode, 422)
  t.equal(refused.json().code, 'FST_DEFAULT_DENY_MEMBERSHIP_LIMIT')
  t.match(refused.json().message, /at most 50 member-group pairs \(maxMembershipChange\)/)
  t.same(await state(), before, 'no membership, closure row or audit entry written')

  const added = await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/group/few', headers: as('olga') })
  t.equal(added.statusCode, 201, '11 pairs: under the limit')
  t.equal((await state()).audit, before.audit + 1)
})

t.test('taking a large group out is bounded too, and the service API is refused alike', async (t) => {
  const { app, as, state, db, m } = await setup(t, { maxMembershipChange: 50 })
  // Nested with plain SQL, which is not limited.
  await sql`insert into ${m} (group_id, member_kind, member_id) values ('team', 'group', 'crowd')`.execute(db)
  const before = await state()
  t.equal(before.closure.filter((row) => row.group_id === 'team').length, 61, 'the crowd and its 60 users reach team')
  const refused = await app.inject({ method: 'DELETE', url: '/permissions/groups/team/members/group/crowd', headers: as('olga') })
  t.equal(refused.statusCode, 422)
  t.equal(refused.json().code, 'FST_DEFAULT_DENY_MEMBERSHIP_LIMIT')
  t.same(await state(), before)
  await t.rejects(app.permissions.removeMember({ group: 'team', member: { kind: 'group', id: 'crowd' } }), codes.FST_DEFAULT_DENY_MEMBERSHIP_LIMIT)
  await t.rejects(app.permissions.addMember({ group: 'other', member: { kind: 'group', id: 'crowd' } }), { code: 'FST_DEFAULT_DENY_MEMBERSHIP_LIMIT', statusCode: 422 })
  t.same(await state(), before)
})

t.test('inside a host transaction the limit holds for the change only, not for the host\'s own SQL after it', async (t) => {
  const { app, db, schema, state } = await setup(t, { maxMembershipChange: 50 })
  await db.transaction().execute(async (trx) => {
    t.same(await app.permissions.addMember({ group: 'team', member: { kind: 'group', id: 'few' } }, { db: trx }), { added: true, revision: null })
    await sql`insert into ${sql.id(schema, 'default_deny_membership')} (group_id, member_kind, member_id) values ('team', 'group', 'crowd')`.execute(trx)
  })
  t.equal((await state()).closure.filter((row) => row.group_id === 'team').length, 72, 'few and crowd with their 70 users')
})

t.test('the default limit is 1000 pairs', async (t) => {
  const { app, as, m, db } = await setup(t)
  await sql`insert into ${m} (group_id, member_kind, member_id) select 'thousand', 'user', 't' || i from generate_series(1, 1000) i`.execute(db)
  const refused = await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/group/thousand', headers: as('olga') })
  t.equal(refused.statusCode, 422, '1001 pairs: the group and its 1000 users')
  t.match(refused.json().message, /at most 1000 /)
  await sql`delete from ${m} where member_id = 't1'`.execute(db)
  const added = await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/group/thousand', headers: as('olga') })
  t.equal(added.statusCode, 201, '1000 pairs')
})

t.test('maxMembershipChange must be a positive integer', async (t) => {
  await t.rejects(build(t, { maxMembershipChange: 0 }).then(async ({ app }) => { await app.ready() }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /maxMembershipChange/ })
})
