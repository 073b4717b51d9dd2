// GET /permissions/access/:resource: what a principal may use of a type and
// through what, from listIds and explain. The caller's own access is all
// its own; another user's or a group's is shown only within what the caller
// manages (all of it for a superuser), and nothing else leaks, not even a count.
import t from 'tap'
import { accessWorld, ids, sources, type AccessPage } from '../views-world.js'

const setup = accessWorld
type Page = AccessPage

t.test('what can I access? a user\'s own, all of it, and through what', async (t) => {
  const { app, as } = await setup(t)
  const res = await app.inject({ url: '/permissions/access/document', headers: as('carol') })
  t.equal(res.statusCode, 200)
  const page = res.json() as Page
  t.same(ids(page), ['d1', 'd2', 'd3', 'pub', 's1'])
  t.equal(page.all, false)
  t.equal(page.next, null)
  t.match(res.json(), { resource: 'document', principal: { kind: 'user', id: 'carol', groups: [] }, privilege: 'read' })
  t.same(sources(page, 'd1'), ['read:user'])
  t.same(sources(page, 'd2'), ['edit:owner', 'manage:owner', 'read:owner'])
  t.same(sources(page, 'd3'), ['edit:group', 'read:group'], 'every privilege held there, not only the one asked')
  t.same(sources(page, 'pub'), ['read:anonymous'])
  const edit = await app.inject({ url: '/permissions/access/document?privilege=edit', headers: as('carol') })
  t.same(ids(edit.json()), ['d2', 'd3'], 'privilege says what counts as use')
})

t.test('a manager asking about someone else sees only what it manages', async (t) => {
  const { app, as } = await setup(t)
  const res = await app.inject({ url: '/permissions/access/document?kind=user&principal=carol', headers: as('olga') })
  t.equal(res.statusCode, 200)
  const page = res.json() as Page
  t.same(ids(page), ['d1', 'd2', 'd3', 'pub'], 's1 is not olga\'s to see')
  t.notMatch(res.body, /s1/, 'not named anywhere')
  t.equal(res.json().next, null, 'the last page: no cursor that could name what lies beyond')
  const paged = await app.inject({ url: '/permissions/access/document?kind=user&principal=carol&limit=3', headers: as('olga') })
  t.same(ids(paged.json()), ['d1', 'd2', 'd3'])
  t.equal(paged.json().next, 'd3', 'a cursor is always an id the viewer may see')
  const rest = await app.inject({ url: '/permissions/access/document?kind=user&principal=carol&limit=3&after=d3', headers: as('olga') })
  t.same(ids(rest.json()), ['pub'])
  t.equal(rest.json().next, null)
  t.notMatch(rest.body, /s1/)
  const stranger = await app.inject({ url: '/permissions/access/document?kind=user&principal=carol', headers: as('dave') })
  t.equal(stranger.statusCode, 200)
  t.same(stranger.json().resources, [], 'a non-manager sees nothing')
  const root = await app.inject({ url: '/permissions/access/document?kind=user&principal=carol', headers: as('root', { su: true }) })
  t.same(ids(root.json()), ['d1', 'd2', 'd3', 'pub', 's1'], 'a superuser sees it all')
})

t.test('a group\'s access: what its members get through it, grants to everyone left out', async (t) => {
  const { app, as } = await setup(t)
  const res = await app.inject({ url: '/permissions/access/document?kind=group&principal=staff', headers: as('root', { su: true }) })
  t.equal(res.statusCode, 200)
  const page = res.json() as Page
  t.same(ids(page), ['d3', 's1'])
  t.match(res.json(), { principal: { kind: 'group', id: 'staff' } })
  t.same(sources(page, 's1'), ['read:group'])
  const olga = await app.inject({ url: '/permissions/access/document?kind=group&principal=staff', headers: as('olga') })
  t.same(ids(olga.json()), ['d3'])
})

t.test('pages: keyset, and a short page when ids outside reach are skipped', async (t) => {
  const { app, as } = await setup(t)
  const first = await app.inject({ url: '/permissions/access/document?limit=2', headers: as('carol') })
  t.same(ids(first.json()), ['d1', 'd2'])
  t.equal(first.json().next, 'd2')
  const second = await app.inject({ url: '/permissions/access/document?limit=2&after=d2', headers: as('carol') })
  t.same(ids(second.json()), ['d3', 'pub'])
  const third = await app.inject({ url: '/permissions/access/document?limit=2&after=pub', headers: as('carol') })
  t.same(ids(third.json()), ['s1'])
  t.equal(third.json().next, null)
})

t.test('a type-level grant: all is true, and the ids listed are those known and in reach', async (t) => {
  const { app, as } = await setup(t)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'erin' }, resource: 'document', id: null, privilege: 'read' })
  const own = await app.inject({ url: '/permissions/access/document', headers: as('erin') })
  t.equal(own.json().all, true)
  t.same(ids(own.json()), ['d1', 'd2', 'd3', 'pub', 's1'])
  t.match(own.json().resources[0].privileges, [{ privilege: 'read', via: [{ source: 'user', typeLevel: true }] }])
  const olga = await app.inject({ url: '/permissions/access/document?kind=user&principal=erin', headers: as('olga') })
  t.same(ids(olga.json()), ['d1', 'd2', 'd3', 'pub'], 'within what olga manages')
})

t.test('refusals name the field', async (t) => {
  const { app, as } = await setup(t)
  const cases: Array<[string, string]> = [
    ['?principal=carol', '/kind'],
    ['?kind=user', '/principal'],
    ['?kind=robot&principal=x', '/kind'],
    ['?kind=group&principal=staff&groups=x', '/groups'],
    ['?groups=x', '/groups'],
    ['?privilege=wirte', '/privilege'],
    ['?limit=101', '/limit'],
    ['?kind=user&principal=a%00b', '/principal']
  ]
  for (const [query, field] of cases) {
    const res = await app.inject({ url: `/permissions/access/document${query}`, headers: as('olga') })
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', field, in: 'query' }, query)
  }
  t.equal((await app.inject({ url: '/permissions/access/nope', headers: as('olga') })).statusCode, 400)
  t.equal((await app.inject({ url: '/permissions/access/document' })).statusCode, 401)
})
