// Groups stored in the database, nested: a user is in every group reachable
// from its token's groups and its own memberships, up to `groupDepth` levels,
// and every form of the check (route, check, checkMany, filter, listIds,
// explain) counts them, on the very next request after a change.
import t from 'tap'
import { sql } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build, withoutRevision } from '../helper.js'

const member = (id: string) => ({ kind: 'user' as const, id })
const subgroup = (id: string) => ({ kind: 'group' as const, id })

t.test('a membership change alters the answer of the next request', async (t) => {
  const { app, as } = await build(t)
  let ran = 0
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'org' }, resource: 'document', id: '1', privilege: 'read' })
  const alice = as('alice')

  t.equal((await app.inject({ url: '/d/1', headers: alice })).statusCode, 403, 'not in any group yet')
  t.same(withoutRevision(await app.permissions.addMember({ group: 'team', member: member('alice') })), { added: true })
  t.same(withoutRevision(await app.permissions.addMember({ group: 'team', member: member('alice') })), { added: false }, 'idempotent')
  t.equal((await app.inject({ url: '/d/1', headers: alice })).statusCode, 403, 'team holds nothing')
  await app.permissions.addMember({ group: 'dept', member: subgroup('team') })
  await app.permissions.addMember({ group: 'org', member: subgroup('dept') })
  t.equal((await app.inject({ url: '/d/1', headers: alice })).statusCode, 200, 'alice → team → dept → org')
  t.equal(ran, 1)
  t.same(withoutRevision(await app.permissions.removeMember({ group: 'dept', member: subgroup('team') })), { removed: true })
  t.equal((await app.inject({ url: '/d/1', headers: alice })).statusCode, 403, 'the chain is broken')
  t.equal(ran, 1, 'handler not run')
  t.same(withoutRevision(await app.permissions.removeMember({ group: 'dept', member: subgroup('team') })), { removed: false })

  // A token's group climbs the same way.
  t.equal((await app.inject({ url: '/d/1', headers: as('bob', { groups: ['dept'] }) })).statusCode, 200, 'token group dept → org')
})

t.test('every form of the check counts nested groups', async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  const { permissions } = app
  await permissions.addMember({ group: 'a', member: member('alice') })
  await permissions.addMember({ group: 'b', member: subgroup('a') })
  await permissions.addMember({ group: 'c', member: subgroup('b') })
  await permissions.grant({ grantee: { kind: 'group', id: 'c' }, resource: 'document', id: 'd2', privilege: 'read' })
  await permissions.grant({ grantee: { kind: 'group', id: 'b' }, resource: 'document', id: 'd3', privilege: 'read' })
  const alice = userPrincipal('alice', [])
  const target = { resource: 'document', privilege: 'read' as const }

  t.equal(await permissions.check(alice, { ...target, id: 'd2' }), true)
  t.equal(await permissions.check(alice, { ...target, id: 'd1' }), false)
  t.same(await permissions.checkMany(alice, { ...target, ids: ['d1', 'd2', 'd3'] }), [false, true, true])
  t.same(await permissions.listIds(alice, target), { ids: ['d2', 'd3'], next: null, all: false })
  const scoped = db.withSchema(schema)
  await scoped.schema.createTable('doc').addColumn('id', 'text', (col) => col.primaryKey()).execute()
  await scoped.insertInto('doc').values([{ id: 'd1' }, { id: 'd2' }, { id: 'd3' }]).execute()
  const rows = await scoped.selectFrom('doc').select('id').where(permissions.filter(alice, target, 'doc.id')).orderBy('id').execute()
  t.same(rows.map((r) => r.id), ['d2', 'd3'])

  const why = await permissions.explain(alice, { resource: 'document', id: 'd2', privilege: 'read' })
  t.equal(why.decision, 'allow')
  t.equal(why.summary, 'allowed: group c (through a → b) holds read')
  t.same(why.privileges.find((p) => p.privilege === 'read')?.via, [{ source: 'group', grantee: { kind: 'group', id: 'c' }, privilege: 'read', typeLevel: false, via: ['a', 'b'] }])
  t.same(await permissions.groupsOf(alice), [
    { group: 'a', via: [], source: 'membership' },
    { group: 'b', via: ['a'], source: 'membership' },
    { group: 'c', via: ['a', 'b'], source: 'membership' }
  ])
  t.same(await permissions.groupsOf(userPrincipal('bob', ['b'])), [
    { group: 'b', via: [], source: 'token' },
    { group: 'c', via: ['b'], source: 'token' }
  ])
})

t.test('cycles are harmless and the depth bound cuts long chains off', async (t) => {
  const { app } = await build(t, { groupDepth: 3 })
  await app.ready()
  const { permissions } = app
  // alice → g1 → g2 → g3 → g4, and g3 → g1 closes a cycle.
  await permissions.addMember({ group: 'g1', member: member('alice') })
  for (const [group, child] of [['g2', 'g1'], ['g3', 'g2'], ['g4', 'g3'], ['g1', 'g3']]) {
    await permissions.addMember({ group: group as string, member: subgroup(child as string) })
  }
  await permissions.grant({ grantee: { kind: 'group', id: 'g3' }, resource: 'document', id: 'three', privilege: 'read' })
  await permissions.grant({ grantee: { kind: 'group', id: 'g4' }, resource: 'document', id: 'four', privilege: 'read' })
  const alice = userPrincipal('alice', [])
  t.equal(await permissions.check(alice, { resource: 'document', id: 'three', privilege: 'read' }), true, 'level 3 counts')
  t.equal(await permissions.check(alice, { resource: 'document', id: 'four', privilege: 'read' }), false, 'level 4 is past groupDepth 3')
  t.same((await permissions.groupsOf(alice)).map((g) => g.group), ['g1', 'g2', 'g3'])
  // From g3: g4 and g1 at level 2, g2 at level 3; the way back to g3 ends the walk.
  t.same(await permissions.groupsOf(userPrincipal('bob', ['g3'])), [
    { group: 'g1', via: ['g3'], source: 'token' },
    { group: 'g2', via: ['g3', 'g1'], source: 'token' },
    { group: 'g3', via: [], source: 'token' },
    { group: 'g4', via: ['g3'], source: 'token' }
  ])
})

t.test('membership input is strict and writes nothing when refused', async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  const bad: unknown[] = [
    null,
    { group: '', member: member('a') },
    { group: 'g', member: { kind: 'anonymous' } },
    { group: 'g', member: { kind: 'user', id: '' } },
    { group: 'g', member: { kind: 'user', id: 'a\u0000b' } },
    { group: 'g', member: subgroup('g') },
    { group: 'g\ud800', member: member('a') },
    { group: ['g'], member: member('a') }
  ]
  for (const input of bad) {
    await t.rejects(app.permissions.addMember(input as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, JSON.stringify(input))
    await t.rejects(app.permissions.removeMember(input as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  }
  const rows = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'default_deny_membership')}`.execute(db)
  t.equal(rows.rows[0]?.n, 0)
  await t.rejects(app.permissions.listMembers('' as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
})

t.test('memberships are audited and listed', async (t) => {
  const { app } = await build(t)
  await app.ready()
  await app.permissions.addMember({ group: 'team', member: member('alice') }, { actor: 'root', reason: 'joined' })
  await app.permissions.addMember({ group: 'team', member: subgroup('interns') })
  await app.permissions.removeMember({ group: 'team', member: subgroup('interns') }, { actor: 'root' })
  const entries = await app.permissions.audit({ resource: { resource: 'group', id: 'team' } })
  t.match(entries, [
    { action: 'member', actor: 'root', grantee: { kind: 'group', id: 'interns' }, resource: 'group', id: 'team', before: ['member'], after: [] },
    { action: 'member', actor: null, grantee: { kind: 'group', id: 'interns' }, before: [], after: ['member'] },
    { action: 'member', actor: 'root', reason: 'joined', grantee: { kind: 'user', id: 'alice' }, before: [], after: ['member'] }
  ])
  t.equal((await app.permissions.verifyAudit()).ok, true)
  const list = await app.permissions.listMembers('team')
  t.match(list, [{ group: 'team', member: { kind: 'user', id: 'alice' }, addedBy: 'root' }])
  t.ok(list[0]?.addedAt instanceof Date)
})

t.test('groupDepth 0 turns stored groups off: only the token counts, and nothing is written', async (t) => {
  const { app, as, db, schema } = await build(t, { groupDepth: 0 })
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  // Written behind the plugin's back: with stored groups off, it must not count.
  await db.withSchema(schema).insertInto('default_deny_membership').values({ group_id: 'team', member_kind: 'user', member_id: 'alice' }).execute()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'team' }, resource: 'document', id: '1', privilege: 'read' })
  t.equal((await app.inject({ url: '/d/1', headers: as('alice') })).statusCode, 403)
  t.equal((await app.inject({ url: '/d/1', headers: as('bob', { groups: ['team'] }) })).statusCode, 200, 'token groups still count')
  const alice = userPrincipal('alice', [])
  t.same(await app.permissions.checkMany(alice, { resource: 'document', privilege: 'read', ids: ['1'] }), [false])
  t.same(await app.permissions.listIds(alice, { resource: 'document', privilege: 'read' }), { ids: [], next: null, all: false })
  t.equal((await app.permissions.explain(alice, { resource: 'document', id: '1', privilege: 'read' })).decision, 'deny')
  t.same(await app.permissions.groupsOf(userPrincipal('bob', ['team'])), [{ group: 'team', via: [], source: 'token' }])
  await t.rejects(app.permissions.addMember({ group: 'team', member: member('carol') }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  const res = await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/user/carol', headers: as('root') })
  t.equal(res.statusCode, 404, 'the membership routes are not there')
  t.equal((await db.withSchema(schema).selectFrom('default_deny_membership').selectAll().execute()).length, 1)
})
