// Scheduled grants: a grant counts from `startsAt` until `expiresAt`, both
// enforced inside the query, through the service API and the grant API.
import t from 'tap'
import { build, snapshot, startGrantsOf } from '../helper.js'

const annotated = { config: { permission: { resource: 'document', privilege: 'read' as const } } }

t.test('a grant counts from its start, not before', async (t) => {
  const { app, as, db, schema } = await build(t)
  app.get('/documents/:id', annotated, async () => ({ ok: true }))
  const startsAt = new Date(Date.now() + 3_600_000)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read', startsAt })
  const alice = { kind: 'user' as const, id: 'alice', groups: [], superuser: false, claims: null }
  t.equal((await app.inject({ url: '/documents/d1', headers: as('alice') })).statusCode, 403, 'not yet')
  t.equal(await app.permissions.check(alice, { resource: 'document', id: 'd1', privilege: 'read' }), false)
  const [listed] = await app.permissions.listGrants({ resource: 'document', id: 'd1' })
  t.same(listed?.startsAt, startsAt, 'the start is stored and listed')
  // Its start moved into the past in the database, as the clock would move it.
  await startGrantsOf(db, schema, 'alice')
  t.equal((await app.inject({ url: '/documents/d1', headers: as('alice') })).statusCode, 200, 'counts once started')
  t.equal(await app.permissions.check(alice, { resource: 'document', id: 'd1', privilege: 'read' }), true)
})

t.test('the grant API takes startsAt and refuses a start that is not before the expiry', async (t) => {
  const { app, as, db, schema } = await build(t)
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  const post = async (body: Record<string, unknown>) => await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: { kind: 'user', id: 'bob' }, privilege: 'read', ...body }
  })
  const later = new Date(Date.now() + 3_600_000).toISOString()
  const muchLater = new Date(Date.now() + 7_200_000).toISOString()
  const before = await snapshot(db, schema)
  for (const body of [{ startsAt: muchLater, expiresAt: later }, { startsAt: later, expiresAt: later }, { startsAt: 'tomorrow' }, { startsAt: 42 }]) {
    const res = await post(body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().code, 'FST_DEFAULT_DENY_INVALID_REQUEST')
  }
  t.same(await snapshot(db, schema), before, 'nothing written')

  t.equal((await post({ startsAt: later, expiresAt: muchLater })).statusCode, 201)
  const listing = (await app.inject({ url: '/permissions/document/d1/grants', headers: as('olga') })).json()
  const bob = listing.grants.find((g: { grantee: { id?: string } }) => g.grantee.id === 'bob')
  t.equal(bob.startsAt, later, 'a scheduled grant is shown to managers, with its start')
  t.equal(bob.expiresAt, muchLater)
  const explained = (await app.inject({ url: '/permissions/document/d1/explain?kind=user&principal=bob&privilege=read', headers: as('olga') })).json()
  t.equal(explained.decision, 'deny', 'explain does not count it yet')
})

t.test('the service API refuses a start that is not before the expiry', async (t) => {
  const { app } = await build(t)
  const base = { grantee: { kind: 'user' as const, id: 'bob' }, resource: 'document', id: 'd1', privilege: 'read' as const }
  const at = new Date(Date.now() + 60_000)
  await t.rejects(app.permissions.grant({ ...base, startsAt: at, expiresAt: at }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(app.permissions.grant({ ...base, startsAt: new Date('nope') }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(app.permissions.grant({ ...base, startsAt: 'tomorrow' as never }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  t.same(await app.permissions.listGrants({ resource: 'document', id: 'd1' }), [])
})
