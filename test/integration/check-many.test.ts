// checkMany: the route check for many resources of one type in one round
// trip, one answer per id in the order given.
import t from 'tap'
import { sql } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build } from '../helper.js'

const alice = userPrincipal('alice', ['staff'])
const read = (ids: string[]) => ({ resource: 'document', privilege: 'read' as const, ids })

t.test('one answer per id, in order, through every way a grant counts', async (t) => {
  const { app, db, schema } = await build(t)
  const p = app.permissions
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd2', privilege: 'read' })
  await p.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: 'd3', privilege: 'read' })
  await p.setOwner({ resource: 'document', id: 'd4', owner: 'alice' })
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd5', privilege: 'edit' })
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd6', privilege: 'read', expiresAt: new Date(Date.now() + 60_000) })
  await sql`update ${sql.id(schema, 'default_deny_grant')} set expires_at = now() - interval '1 second' where resource_id = 'd6'`.execute(db)

  const ids = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'D1', 'd1', 'nope']
  t.same(await p.checkMany(alice, read(ids)), [true, true, true, true, false, false, false, true, false])
  t.same(await p.checkMany(alice, read(ids)), await Promise.all(ids.map((id) => p.check(alice, { resource: 'document', id, privilege: 'read' }))),
    'the same answers as check, one by one')
  t.same(await p.checkMany(p.anonymous, read(['d1', 'd3', 'd4'])), [false, true, false], 'anonymous: only what everyone may')
  t.same(await p.checkMany(userPrincipal('root', [], true), read(['x', 'y'])), [true, true], 'a superuser may everything')
  t.same(await p.checkMany(alice, read([])), [], 'no ids, no answers')
})

t.test('a type-level grant answers every id', async (t) => {
  const { app } = await build(t)
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'read' })
  const ids = Array.from({ length: 500 }, (_, i) => `doc${i}`)
  t.same(await app.permissions.checkMany(alice, read(ids)), ids.map(() => true))
  t.same(await app.permissions.checkMany(userPrincipal('bob', []), read(ids.slice(0, 3))), [false, false, false], 'not for others')
})

t.test('bad input is refused with INVALID_GRANT', async (t) => {
  const { app } = await build(t)
  const cases: Array<[string, unknown]> = [
    ['ids not an array', { resource: 'document', privilege: 'read', ids: 'd1' }],
    ['an empty id', { resource: 'document', privilege: 'read', ids: ['d1', ''] }],
    ['a NUL byte', { resource: 'document', privilege: 'read', ids: ['d\u0000'] }],
    ['a lone surrogate', { resource: 'document', privilege: 'read', ids: ['d\ud800'] }],
    ['a number', { resource: 'document', privilege: 'read', ids: [1] }],
    ['too many ids', { resource: 'document', privilege: 'read', ids: Array.from({ length: 10_001 }, (_, i) => `d${i}`) }],
    ['unknown privilege', { resource: 'document', privilege: 'write', ids: ['d1'] }],
    ['no resource', { privilege: 'read', ids: ['d1'] }]
  ]
  for (const [name, target] of cases) {
    await t.rejects(app.permissions.checkMany(alice, target as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, name)
  }
})
