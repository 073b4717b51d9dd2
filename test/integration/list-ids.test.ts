// listIds: keyset pages of the ids a principal may use, for hosts that keep
// their resources outside PostgreSQL.
import t from 'tap'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build } from '../helper.js'

const alice = userPrincipal('alice', ['staff'])

t.test('pages through every id the principal holds a grant on or owns, sorted byte-wise', async (t) => {
  const { app } = await build(t)
  const p = app.permissions
  for (const id of ['b', 'a', 'B', 'é', 'c']) await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id, privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'g1', privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'a', privilege: 'read' })
  await p.setOwner({ resource: 'document', id: 'o1', owner: 'alice' })
  await p.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'e1', privilege: 'edit' })
  await p.grant({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: 'x1', privilege: 'read' })

  const read = { resource: 'document', privilege: 'read' as const }
  const first = await p.listIds(alice, { ...read, limit: 3 })
  t.same(first, { ids: ['B', 'a', 'b'], next: 'b', all: false })
  const second = await p.listIds(alice, { ...read, limit: 3, after: 'b' })
  t.same(second, { ids: ['c', 'g1', 'o1'], next: 'o1', all: false })
  t.same(await p.listIds(alice, { ...read, limit: 3, after: 'o1' }), { ids: ['é'], next: null, all: false }, 'the last page has no next')
  t.same(await p.listIds(alice, read), { ids: ['B', 'a', 'b', 'c', 'g1', 'o1', 'é'], next: null, all: false }, 'one id once, however many grants')
  t.same(await p.listIds(p.anonymous, read), { ids: [], next: null, all: false })
})

t.test('a type-level grant or a superuser: every id, which is not the plugin\'s to list', async (t) => {
  const { app } = await build(t)
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'read' })
  t.same(await app.permissions.listIds(alice, { resource: 'document', privilege: 'read' }), { ids: [], next: null, all: true })
  t.same(await app.permissions.listIds(userPrincipal('root', [], true), { resource: 'document', privilege: 'read' }), { ids: [], next: null, all: true })
  t.same(await app.permissions.listIds(userPrincipal('bob', []), { resource: 'document', privilege: 'read' }), { ids: [], next: null, all: false })
})

t.test('bad input is refused with INVALID_GRANT', async (t) => {
  const { app } = await build(t)
  const cases: Array<[string, unknown]> = [
    ['unknown privilege', { resource: 'document', privilege: 'write' }],
    ['limit 0', { resource: 'document', privilege: 'read', limit: 0 }],
    ['limit too large', { resource: 'document', privilege: 'read', limit: 1001 }],
    ['after with NUL', { resource: 'document', privilege: 'read', after: 'a\u0000' }],
    ['no resource', { privilege: 'read' }]
  ]
  for (const [name, target] of cases) {
    await t.rejects(app.permissions.listIds(alice, target as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, name)
  }
})
