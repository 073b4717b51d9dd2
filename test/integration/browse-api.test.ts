// GET /permissions/resources/:resource: the known resources of a type, a
// keyset page at a time, with owner and live grant count, filtered by an id
// prefix that is matched as text (%, _ and \ are themselves). A manager sees
// only what it manages; a superuser every one; a stranger nothing.
import t from 'tap'
import { expireGrantsOf } from '../helper.js'
import { browseWorld, ids } from '../views-world.js'

const setup = browseWorld

t.test('a superuser pages through every known resource, with owners and grant counts', async (t) => {
  const { app, as } = await setup(t)
  const first = await app.inject({ url: '/permissions/resources/document?limit=3', headers: as('root', { su: true }) })
  t.equal(first.statusCode, 200)
  const body = first.json()
  t.same(ids(body), ['a%b', 'a1', 'a2'], 'byte order')
  t.same(body.resources[1], { id: 'a1', owner: 'olga', grants: 2 })
  t.equal(body.next, 'a2')
  const rest = await app.inject({ url: `/permissions/resources/document?limit=100&after=${encodeURIComponent(body.next)}`, headers: as('root', { su: true }) })
  t.same(ids(rest.json()), ['a\\d', 'a_c', 'ab', 'b1', 'm1', 'x9'])
  t.same(rest.json().resources.find((r: { id: string }) => r.id === 'b1'), { id: 'b1', owner: null, grants: 1 }, 'known by its grant alone')
  t.equal(rest.json().next, null)
})

t.test('a manager sees only what it manages, counts included; a stranger sees nothing', async (t) => {
  const { app, as } = await setup(t)
  const mia = await app.inject({ url: '/permissions/resources/document', headers: as('mia') })
  t.equal(mia.statusCode, 200)
  t.same(mia.json(), { resource: 'document', prefix: '', resources: [{ id: 'm1', owner: null, grants: 1 }, { id: 'x9', owner: 'mia', grants: 0 }], next: null })
  const olga = await app.inject({ url: '/permissions/resources/document', headers: as('olga') })
  t.same(ids(olga.json()), ['a%b', 'a1', 'a2', 'a\\d', 'a_c', 'ab'])
  const carol = await app.inject({ url: '/permissions/resources/document', headers: as('carol') })
  t.same(carol.json().resources, [], 'reading is not managing')
  const staff = await app.inject({ url: '/permissions/resources/document', headers: as('sam', { groups: ['staff'] }) })
  t.same(staff.json().resources, [], 'edit is not manage')
})

t.test('expired grants are not counted', async (t) => {
  const { app, as, db, schema } = await setup(t)
  await expireGrantsOf(db, schema, 'carol')
  const res = await app.inject({ url: '/permissions/resources/document?prefix=a1', headers: as('olga') })
  t.same(res.json().resources, [{ id: 'a1', owner: 'olga', grants: 1 }], 'staff\'s edit only')
})

t.test('hostile prefixes are matched as text, not as patterns', async (t) => {
  const { app, as } = await setup(t)
  const of = async (prefix: string) => ids((await app.inject({ url: `/permissions/resources/document?prefix=${encodeURIComponent(prefix)}`, headers: as('olga') })).json())
  t.same(await of('a'), ['a%b', 'a1', 'a2', 'a\\d', 'a_c', 'ab'])
  t.same(await of('a%'), ['a%b'], '% is a percent sign')
  t.same(await of('a_'), ['a_c'], '_ is an underscore')
  t.same(await of('a\\'), ['a\\d'], 'a backslash is a backslash')
  t.same(await of('%'), [], 'a lone % matches no id')
  t.same(await of('_'), [])
  t.same(await of("a' or 1=1 --"), [])
  t.same(await of('m'), [], 'nothing of what olga does not manage, even by prefix')
})

t.test('refusals: unknown type, bad page size, a bad cursor, no token', async (t) => {
  const { app, as } = await setup(t)
  const unknown = await app.inject({ url: '/permissions/resources/documnet', headers: as('olga') })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', in: 'path', message: /documnet/ })
  const limit = await app.inject({ url: '/permissions/resources/document?limit=0', headers: as('olga') })
  t.equal(limit.statusCode, 400)
  t.match(limit.json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', field: '/limit', in: 'query' })
  const extra = await app.inject({ url: '/permissions/resources/document?owner=olga', headers: as('olga') })
  t.equal(extra.statusCode, 400)
  t.match(extra.json(), { field: '/owner', in: 'query' })
  const nul = await app.inject({ url: '/permissions/resources/document?prefix=a%00', headers: as('olga') })
  t.equal(nul.statusCode, 400)
  t.match(nul.json(), { field: '/prefix', in: 'query' })
  t.equal((await app.inject({ url: '/permissions/resources/document' })).statusCode, 401)
})
