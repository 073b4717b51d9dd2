// app.permissions.browse: the known resources of a type, a keyset page at a
// time, with owner and live grant count. The service API trusts its caller:
// without a viewer it lists every one; with a viewer, exactly what the grant
// API's GET /permissions/resources/:resource shows that viewer. It only reads.
import t from 'tap'
import { sql } from 'kysely'
import type { Principal } from '../../fastify-plugin.js'
import { snapshot } from '../helper.js'
import { browseWorld, ids } from '../views-world.js'

const user = (id: string, superuser = false): Principal => ({ kind: 'user', id, groups: [], superuser, claims: null })

const setup = browseWorld

t.test('without a viewer: every known resource, owners and grant counts, a keyset page at a time', async (t) => {
  const { app } = await setup(t)
  const first = await app.permissions.browse({ resource: 'document', limit: 3 })
  t.same(ids(first), ['a%b', 'a1', 'a2'], 'byte order')
  t.same(first.resources[1], { id: 'a1', owner: 'olga', grants: 2 })
  t.equal(first.next, 'a2')
  const rest = await app.permissions.browse({ resource: 'document', after: first.next })
  t.same(ids(rest), ['a\\d', 'a_c', 'ab', 'b1', 'm1', 'x9'])
  t.same(rest.resources.find((r) => r.id === 'b1'), { id: 'b1', owner: null, grants: 1 }, 'known by its grant alone')
  t.equal(rest.next, null)
  t.same(ids(await app.permissions.browse({ resource: 'document', prefix: 'a_' })), ['a_c'], '_ is itself, not a wildcard')
  t.same(ids(await app.permissions.browse({ resource: 'document', prefix: 'a%' })), ['a%b'], '% is itself')
  t.same(await app.permissions.browse({ resource: 'folder' }), { resources: [], next: null }, 'a type with nothing known')
})

t.test('with a viewer: what the grant API shows that viewer, no more', async (t) => {
  const { app, as } = await setup(t)
  const viewers: Array<[Principal, string, Record<string, unknown>]> = [
    [user('mia'), 'mia', {}], [user('olga'), 'olga', {}], [user('dave'), 'dave', {}], [user('root', true), 'root', { su: true }]
  ]
  for (const [viewer, sub, claims] of viewers) {
    const served = await app.permissions.browse({ resource: 'document', limit: 100 }, { viewer })
    const http = await app.inject({ url: '/permissions/resources/document?limit=100', headers: as(sub, claims) })
    t.equal(http.statusCode, 200)
    t.same(served, { resources: http.json().resources, next: http.json().next }, `${sub}: the same page as over HTTP`)
  }
  t.same(ids(await app.permissions.browse({ resource: 'document' }, { viewer: user('mia') })), ['m1', 'x9'])
  t.same(ids(await app.permissions.browse({ resource: 'document' }, { viewer: user('dave') })), [], 'a stranger sees nothing')
  t.same(ids(await app.permissions.browse({ resource: 'document' }, { viewer: app.permissions.anonymous })), [], 'nor does anonymous')
  t.same(ids(await app.permissions.browse({ resource: 'document' }, { viewer: user('root', true) })).length, 9, 'a superuser every one')
})

t.test('bad input throws FST_DEFAULT_DENY_INVALID_GRANT naming the field, and writes nothing', async (t) => {
  const { app, db, schema } = await setup(t)
  const before = await snapshot(db, schema)
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ['an unknown type', async () => await app.permissions.browse({ resource: 'documnet' }), '/resource'],
    ['a type that is no id', async () => await app.permissions.browse({ resource: '' }), '/resource'],
    ['no target', async () => await app.permissions.browse(null as never), ''],
    ['limit 0', async () => await app.permissions.browse({ resource: 'document', limit: 0 }), '/limit'],
    ['limit 101', async () => await app.permissions.browse({ resource: 'document', limit: 101 }), '/limit'],
    ['limit 2.5', async () => await app.permissions.browse({ resource: 'document', limit: 2.5 }), '/limit'],
    ['an empty after', async () => await app.permissions.browse({ resource: 'document', after: '' }), '/after'],
    ['a NUL in the prefix', async () => await app.permissions.browse({ resource: 'document', prefix: 'a\u0000' }), '/prefix'],
    ['a prefix that is no string', async () => await app.permissions.browse({ resource: 'document', prefix: 7 as never }), '/prefix'],
    ['a viewer that is no principal', async () => await app.permissions.browse({ resource: 'document' }, { viewer: { kind: 'group', id: 'staff' } as never }), '/viewer'],
    ['a user viewer without an id', async () => await app.permissions.browse({ resource: 'document' }, { viewer: user('') }), '/viewer']
  ]
  for (const [what, call, field] of cases) {
    await t.rejects(call(), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field }, what)
  }
  await t.rejects(app.permissions.browse({ resource: 'documnet' }), { message: /documnet.*did you mean "document"/ }, 'the message names the value and the rule')
  t.same(await snapshot(db, schema), before, 'nothing written')
})

t.test('it only reads: it runs in a read-only transaction, and inside the caller\'s', async (t) => {
  const { app, db, schema } = await setup(t)
  const before = await snapshot(db, schema)
  await t.rejects(db.transaction().execute(async (trx) => {
    await sql`set transaction read only`.execute(trx)
    await app.permissions.setOwner({ resource: 'document', id: 'zz', owner: 'mia' }, { db: trx })
  }), 'a write in a read-only transaction fails (what the next call would meet)')
  const page = await db.transaction().execute(async (trx) => {
    await sql`set transaction read only`.execute(trx)
    return await app.permissions.browse({ resource: 'document', limit: 100 }, { db: trx, viewer: user('mia') })
  })
  t.same(ids(page), ['m1', 'x9'])
  const seen = await db.transaction().execute(async (trx) => {
    await app.permissions.setOwner({ resource: 'document', id: 'new', owner: 'mia' }, { db: trx })
    const inside = await app.permissions.browse({ resource: 'document' }, { db: trx, viewer: user('mia') })
    throw Object.assign(new Error('roll back'), { inside })
  }).catch((err: { inside?: { resources: Array<{ id: string }> } }) => err.inside)
  t.same(seen === undefined ? null : ids(seen), ['m1', 'new', 'x9'], 'it reads in the caller\'s transaction')
  t.same(await snapshot(db, schema), before, 'nothing written')
})
