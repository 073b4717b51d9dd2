// app.permissions.access: what a principal (or a group's members) may use of
// a type and through what, from listIds and explain, a keyset page at a time.
// Without a viewer the trusted caller sees all of it; with a viewer, exactly
// what GET /permissions/access/:resource shows that viewer. It only reads.
import t from 'tap'
import { sql } from 'kysely'
import type { Principal } from '../../fastify-plugin.js'
import { snapshot } from '../helper.js'
import { accessWorld, ids, sources } from '../views-world.js'

const user = (id: string, groups: string[] = [], superuser = false): Principal => ({ kind: 'user', id, groups, superuser, claims: null })

const setup = accessWorld

t.test('without a viewer: all of a user\'s access, every privilege held and through what', async (t) => {
  const { app } = await setup(t)
  const carol = user('carol')
  const page = await app.permissions.access(carol, { resource: 'document' })
  t.same(ids(page), ['d1', 'd2', 'd3', 'pub', 's1'])
  t.match(page, { privilege: 'read', all: false, next: null }, 'the first configured privilege by default')
  t.same(sources(page, 'd1'), ['read:user'])
  t.same(sources(page, 'd2'), ['edit:owner', 'manage:owner', 'read:owner'])
  t.same(sources(page, 'd3'), ['edit:group', 'read:group'])
  t.same(sources(page, 'pub'), ['read:anonymous'])
  const edit = await app.permissions.access(carol, { resource: 'document', privilege: 'edit' })
  t.same(ids(edit), ['d2', 'd3'], 'privilege says what counts as use')
  t.equal(edit.privilege, 'edit')
  const first = await app.permissions.access(carol, { resource: 'document', limit: 2 })
  t.same([ids(first), first.next], [['d1', 'd2'], 'd2'])
  const second = await app.permissions.access(carol, { resource: 'document', limit: 2, after: first.next })
  t.same([ids(second), second.next], [['d3', 'pub'], 'pub'])
  t.same(ids(await app.permissions.access(app.permissions.anonymous, { resource: 'document' })), ['pub'], 'anonymous\'s access')
})

t.test('a group: what its members get through it, grants to everyone left out', async (t) => {
  const { app } = await setup(t)
  const page = await app.permissions.access({ kind: 'group', id: 'staff' }, { resource: 'document' })
  t.same(ids(page), ['d3', 's1'])
  t.same(sources(page, 's1'), ['read:group'])
  t.same(ids(await app.permissions.access({ kind: 'group', id: 'nobody' }, { resource: 'document' })), [])
})

t.test('with a viewer: what the grant API shows that viewer, no more', async (t) => {
  const { app, as } = await setup(t)
  const cases: Array<[Principal, string, Record<string, unknown>, string]> = [
    [user('olga'), 'olga', {}, 'kind=user&principal=carol'],
    [user('dave'), 'dave', {}, 'kind=user&principal=carol'],
    [user('root', [], true), 'root', { su: true }, 'kind=user&principal=carol'],
    [user('olga'), 'olga', {}, 'kind=group&principal=staff']
  ]
  for (const [viewer, sub, claims, query] of cases) {
    const subject = query.startsWith('kind=group') ? { kind: 'group' as const, id: 'staff' } : user('carol')
    const served = await app.permissions.access(subject, { resource: 'document' }, { viewer })
    const http = (await app.inject({ url: `/permissions/access/document?${query}`, headers: as(sub, claims) })).json()
    t.same(served, { privilege: http.privilege, all: http.all, resources: http.resources, next: http.next }, `${sub}, ${query}: the same page as over HTTP`)
  }
  const olga = await app.permissions.access(user('carol'), { resource: 'document' }, { viewer: user('olga') })
  t.same(ids(olga), ['d1', 'd2', 'd3', 'pub'], 's1 is not olga\'s to see')
  t.notMatch(JSON.stringify(olga), /s1/, 'not named anywhere')
  const paged = await app.permissions.access(user('carol'), { resource: 'document', limit: 3 }, { viewer: user('olga') })
  t.equal(paged.next, 'd3', 'a cursor is always an id the viewer may see')
  const carol = user('carol')
  t.same(ids(await app.permissions.access(carol, { resource: 'document' }, { viewer: carol })), ['d1', 'd2', 'd3', 'pub', 's1'], 'the subject as its own viewer sees all of its own')
  t.same(ids(await app.permissions.access(carol, { resource: 'document' }, { viewer: app.permissions.anonymous })), [], 'anonymous manages nothing')
})

t.test('a type-level grant: all is true, and the ids listed are the known ones in view', async (t) => {
  const { app } = await setup(t)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'erin' }, resource: 'document', id: null, privilege: 'read' })
  const all = await app.permissions.access(user('erin'), { resource: 'document' })
  t.equal(all.all, true)
  t.same(ids(all), ['d1', 'd2', 'd3', 'pub', 's1'])
  const olga = await app.permissions.access(user('erin'), { resource: 'document' }, { viewer: user('olga') })
  t.same(ids(olga), ['d1', 'd2', 'd3', 'pub'], 'within what olga manages')
})

t.test('bad input throws FST_DEFAULT_DENY_INVALID_GRANT naming the field, and writes nothing', async (t) => {
  const { app, db, schema } = await setup(t)
  const before = await snapshot(db, schema)
  const carol = user('carol')
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ['an unknown type', async () => await app.permissions.access(carol, { resource: 'documnet' }), '/resource'],
    ['no target', async () => await app.permissions.access(carol, 'document' as never), ''],
    ['an unknown privilege', async () => await app.permissions.access(carol, { resource: 'document', privilege: 'wirte' as never }), '/privilege'],
    ['limit 0', async () => await app.permissions.access(carol, { resource: 'document', limit: 0 }), '/limit'],
    ['limit 101', async () => await app.permissions.access(carol, { resource: 'document', limit: 101 }), '/limit'],
    ['an after with NUL', async () => await app.permissions.access(carol, { resource: 'document', after: 'a\u0000' }), '/after'],
    ['a principal of no known kind', async () => await app.permissions.access({ kind: 'robot', id: 'x' } as never, { resource: 'document' }), '/principal'],
    ['a user without an id', async () => await app.permissions.access(user(''), { resource: 'document' }), '/principal'],
    ['no principal', async () => await app.permissions.access(null as never, { resource: 'document' }), '/principal'],
    ['a group without an id', async () => await app.permissions.access({ kind: 'group', id: '' }, { resource: 'document' }), '/principal/id'],
    ['a viewer that is a group', async () => await app.permissions.access(carol, { resource: 'document' }, { viewer: { kind: 'group', id: 'staff' } as never }), '/viewer']
  ]
  for (const [what, call, field] of cases) {
    await t.rejects(call(), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field }, what)
  }
  await t.rejects(app.permissions.access(carol, { resource: 'document', privilege: 'wirte' as never }), { message: /privilege must be one of read, edit, manage \(got "wirte"\)/ })
  t.same(await snapshot(db, schema), before, 'nothing written')
})

t.test('it only reads: it runs in a read-only transaction', async (t) => {
  const { app, db, schema } = await setup(t)
  const before = await snapshot(db, schema)
  const page = await db.transaction().execute(async (trx) => {
    await sql`set transaction read only`.execute(trx)
    return await app.permissions.access(user('carol'), { resource: 'document' }, { db: trx, viewer: user('olga') })
  })
  t.same(ids(page), ['d1', 'd2', 'd3', 'pub'])
  t.same(await snapshot(db, schema), before, 'nothing written')
})
