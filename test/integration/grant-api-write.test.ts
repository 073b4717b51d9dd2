// Adding, revoking and replacing grants through the HTTP API, with the
// effect on real requests and the rows in the database.
import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

// The schedules are asserted in test/cli/audit-every-write.test.ts; here, the privileges.
const withoutSchedule = ({ schedule: _schedule, ...rest }: Record<string, unknown>) => rest

async function setup (t: Parameters<typeof build>[0]) {
  const built = await build(t, { superuserClaim: 'su' })
  for (const [method, privilege] of [['GET', 'read'], ['PUT', 'edit'], ['DELETE', 'delete']] as const) {
    built.app.route({ method, url: '/d/:id', config: { permission: { resource: 'document', privilege } }, handler: async () => privilege })
  }
  await built.app.ready()
  await built.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  const count = async () => (await built.db.withSchema(built.schema).selectFrom('default_deny_grant')
    .select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n
  return { ...built, count }
}

const carol = { kind: 'user', id: 'carol' }

t.test('add a grant: 201, then 200 without a second row; the grant works at once', async (t) => {
  const { app, as, count } = await setup(t)
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 403)
  const first = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: carol, privilege: 'read' } })
  t.equal(first.statusCode, 201)
  t.same(withoutSchedule(first.json()), { grantee: carol, before: [], after: ['read'], changed: ['read'] })
  const again = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: carol, privilege: 'read' } })
  t.equal(again.statusCode, 200)
  t.same(withoutSchedule(again.json()), { grantee: carol, before: ['read'], after: ['read'], changed: [] })
  t.equal(await count(), 1)
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 200)
  const [grant] = await app.permissions.listGrants({ resource: 'document', id: 'd1' })
  t.equal(grant?.grantedBy, 'olga', 'the actor is the verified caller')
})

t.test('an expiring grant', async (t) => {
  const { app, as } = await setup(t)
  const expiresAt = new Date(Date.now() + 60_000).toISOString()
  const res = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: carol, privilege: 'read', expiresAt } })
  t.equal(res.statusCode, 201)
  const [grant] = await app.permissions.listGrants({ resource: 'document', id: 'd1' })
  t.equal(grant?.expiresAt?.toISOString(), expiresAt)
})

t.test('revoke one privilege, then everything a principal holds', async (t) => {
  const { app, as, count } = await setup(t)
  await app.permissions.replace({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privileges: ['read', 'edit', 'delete'] })
  const one = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit?reason=tidy', headers: as('olga') })
  t.equal(one.statusCode, 200)
  t.same(withoutSchedule(one.json()), { grantee: carol, before: ['delete', 'edit', 'read'], after: ['delete', 'read'], changed: ['edit'] })
  t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol') })).statusCode, 403)
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 200)
  const all = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grantees/user/carol', headers: as('olga') })
  t.same(withoutSchedule(all.json()), { grantee: carol, before: ['delete', 'read'], after: [], changed: ['delete', 'read'] })
  t.equal(await count(), 0)
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 403, 'back to default deny')
  const nothing = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit', headers: as('olga') })
  t.equal(nothing.statusCode, 200, 'revoking what is not there is not an error')
  t.same(nothing.json().after, [])
})

t.test('replace a principal\'s privileges atomically: exactly what was asked', async (t) => {
  const { app, as } = await setup(t)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'edit' })
  const res = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grantees/user/carol', headers: as('olga'), payload: { privileges: ['read'] } })
  t.equal(res.statusCode, 200)
  t.same(withoutSchedule(res.json()), { grantee: carol, before: ['edit'], after: ['read'], changed: ['edit', 'read'] })
  t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol') })).statusCode, 403)
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 200)
  const anon = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grantees/anonymous', headers: as('olga'), payload: { privileges: ['read'] } })
  t.equal(anon.statusCode, 200)
  t.equal((await app.inject({ url: '/d/d1' })).statusCode, 200, 'public now')
  const gone = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grantees/anonymous', headers: as('olga') })
  t.same(gone.json().after, [])
  t.equal((await app.inject({ url: '/d/d1' })).statusCode, 403)
})

t.test('replace the whole grant set of a resource in one transaction', async (t) => {
  const { app, as } = await setup(t)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'edit' })
  await app.permissions.grant({ grantee: { kind: 'group', id: 'old' }, resource: 'document', id: 'd1', privilege: 'read' })
  const res = await app.inject({
    method: 'PUT',
    url: '/permissions/document/d1/grants',
    headers: as('olga'),
    payload: { grants: [{ grantee: carol, privilege: 'read' }, { grantee: { kind: 'group', id: 'new' }, privilege: 'read' }], reason: 'reorg' }
  })
  t.equal(res.statusCode, 200)
  const grants = await app.permissions.listGrants({ resource: 'document', id: 'd1' })
  t.same(grants.map((g) => `${g.grantee.kind}:${(g.grantee as { id?: string }).id}:${g.privilege}`), ['group:new:read', 'user:carol:read'])
  t.equal(res.json().changes.length, 3, 'carol changed, new added, old removed')
})

t.test('whole-set replacement sets, keeps and clears expiries', async (t) => {
  const { app, as } = await setup(t)
  const soon = new Date(Date.now() + 60_000)
  const later = new Date(Date.now() + 120_000)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read', expiresAt: soon })
  const res = await app.inject({
    method: 'PUT',
    url: '/permissions/document/d1/grants',
    headers: as('olga'),
    payload: {
      grants: [
        { grantee: carol, privilege: 'read' },
        { grantee: { kind: 'group', id: 'g' }, privilege: 'read', expiresAt: soon.toISOString() },
        { grantee: { kind: 'group', id: 'g' }, privilege: 'edit', expiresAt: soon.toISOString() },
        { grantee: { kind: 'user', id: 'dan' }, privilege: 'read', expiresAt: soon.toISOString() },
        { grantee: { kind: 'user', id: 'dan' }, privilege: 'edit', expiresAt: later.toISOString() }
      ]
    }
  })
  t.equal(res.statusCode, 200)
  const expiry = new Map((await app.permissions.listGrants({ resource: 'document', id: 'd1' }))
    .map((g) => [`${(g.grantee as { id: string }).id}:${g.privilege}`, g.expiresAt?.getTime() ?? null]))
  t.same(Object.fromEntries(expiry), {
    'carol:read': null,
    'g:read': soon.getTime(),
    'g:edit': soon.getTime(),
    'dan:read': soon.getTime(),
    'dan:edit': later.getTime()
  }, 'a kept grant loses its old expiry; a shared or a per-item expiry is stored')
})

t.test('the owner hands ownership on; a superuser may too; others may not', async (t) => {
  const { app, as } = await setup(t)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'mary' }, resource: 'document', id: 'd1', privilege: 'manage' })
  const taken = await app.inject({ method: 'PUT', url: '/permissions/document/d1/owner', headers: as('mary'), payload: { owner: 'mary' } })
  t.equal(taken.statusCode, 403)
  t.equal(taken.json().code, 'FST_DEFAULT_DENY_ESCALATION')
  const given = await app.inject({ method: 'PUT', url: '/permissions/document/d1/owner', headers: as('olga'), payload: { owner: 'oscar' } })
  t.equal(given.statusCode, 200)
  t.same(given.json(), { owner: 'oscar', before: 'olga' })
  t.equal((await app.inject({ method: 'DELETE', url: '/d/d1', headers: as('olga') })).statusCode, 403)
  t.equal((await app.inject({ method: 'DELETE', url: '/d/d1', headers: as('oscar') })).statusCode, 200)
  const su = await app.inject({ method: 'PUT', url: '/permissions/document/d1/owner', headers: as('root', { su: true }), payload: { owner: 'olga' } })
  t.equal(su.statusCode, 200)
})

t.test('the grant API can be mounted elsewhere or turned off', async (t) => {
  const moved = await build(t, { grantRoutes: { prefix: '/admin/acl' } })
  await moved.app.ready()
  await moved.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  t.equal((await moved.app.inject({ url: '/admin/acl/document/d1/grants', headers: moved.as('olga') })).statusCode, 200)
  t.equal((await moved.app.inject({ url: '/permissions/document/d1/grants', headers: moved.as('olga') })).statusCode, 404)
  const off = await build(t, { grantRoutes: false })
  await off.app.ready()
  t.equal((await off.app.inject({ url: '/permissions/document/d1/grants', headers: off.as('olga') })).statusCode, 404)
})
