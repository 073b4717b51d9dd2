// /permissions/type-grants/:resource: type-level grants, which count on
// every resource of the type, read and changed by superusers only, audited
// like any change, and refused for the types typeLevelGrants forbids.
import t from 'tap'
import { build } from '../helper.js'

async function setup (t: Parameters<typeof build>[0], options = {}) {
  const built = await build(t, { superuserClaim: 'su', privileges: ['read', 'edit', 'manage'], ...options })
  let ran = 0
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await built.app.ready()
  await built.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  const rows = async () => await built.db.withSchema(built.schema).selectFrom('default_deny_grant')
    .select(['principal_kind', 'principal_id', 'resource_id', 'privilege', 'granted_by']).where('resource_type', '=', 'document').execute()
  return { ...built, rows, ran: () => ran }
}

const root = { su: true }

t.test('a superuser grants on a whole type, lists and revokes it; each change audited', async (t) => {
  const { app, as, rows, ran } = await setup(t)
  t.equal((await app.inject({ url: '/d/any', headers: as('carol') })).statusCode, 403)
  const add = await app.inject({ method: 'POST', url: '/permissions/type-grants/document', headers: as('root', root), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read', reason: 'auditors' } })
  t.equal(add.statusCode, 201)
  t.match(add.json(), { grantee: { kind: 'user', id: 'carol' }, before: [], after: ['read'], changed: ['read'] })
  t.same(await rows(), [{ principal_kind: 'user', principal_id: 'carol', resource_id: null, privilege: 'read', granted_by: 'root' }])
  t.equal((await app.inject({ url: '/d/any', headers: as('carol') })).statusCode, 200, 'every document, even one never seen')
  t.equal(ran(), 1)
  const again = await app.inject({ method: 'POST', url: '/permissions/type-grants/document', headers: as('root', root), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' } })
  t.equal(again.statusCode, 200)

  const list = await app.inject({ url: '/permissions/type-grants/document', headers: as('root', root) })
  t.equal(list.statusCode, 200)
  t.match(list.json(), { resource: 'document', grants: [{ grantee: { kind: 'user', id: 'carol' }, privilege: 'read', source: 'type', grantedBy: 'root' }] })

  const [entry] = await app.permissions.audit({ limit: 1 })
  t.match(entry, { action: 'grant', actor: 'root', resource: 'document', id: null, reason: 'auditors', after: ['read'] })

  const anon = await app.inject({ method: 'POST', url: '/permissions/type-grants/document', headers: as('root', root), payload: { grantee: { kind: 'anonymous' }, privilege: 'read' } })
  t.equal(anon.statusCode, 201)
  const revokeAnon = await app.inject({ method: 'DELETE', url: '/permissions/type-grants/document/read?kind=anonymous', headers: as('root', root) })
  t.equal(revokeAnon.statusCode, 200)
  t.match(revokeAnon.json(), { before: ['read'], after: [] })

  const revoke = await app.inject({ method: 'DELETE', url: '/permissions/type-grants/document/read?kind=user&principal=carol&reason=done', headers: as('root', root) })
  t.equal(revoke.statusCode, 200)
  t.match(revoke.json(), { before: ['read'], after: [] })
  t.same(await rows(), [])
  t.equal((await app.inject({ url: '/d/any', headers: as('carol') })).statusCode, 403)
})

t.test('anyone but a superuser is refused, even an owner, and nothing is written', async (t) => {
  const { app, as, rows } = await setup(t)
  const payload = { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
  for (const headers of [as('olga'), as('mia')]) {
    const add = await app.inject({ method: 'POST', url: '/permissions/type-grants/document', headers, payload })
    t.equal(add.statusCode, 403)
    t.equal(add.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
    t.equal((await app.inject({ url: '/permissions/type-grants/document', headers })).statusCode, 403)
    t.equal((await app.inject({ method: 'DELETE', url: '/permissions/type-grants/document/read?kind=user&principal=carol', headers })).statusCode, 403)
  }
  t.same(await rows(), [])
  t.equal((await app.inject({ url: '/permissions/type-grants/document' })).statusCode, 401)
})

t.test('bad input: 400 naming the field; a forbidden type, the option\'s sentence; nothing written', async (t) => {
  const { app, as, rows } = await setup(t, { typeLevelGrants: { forbid: ['document'] } })
  const forbidden = await app.inject({ method: 'POST', url: '/permissions/type-grants/document', headers: as('root', root), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' } })
  t.equal(forbidden.statusCode, 400)
  t.match(forbidden.json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', message: /forbidden by the typeLevelGrants option/ })
  const unknown = await app.inject({ method: 'POST', url: '/permissions/type-grants/documnet', headers: as('root', root), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' } })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json(), { in: 'path' })
  const privilege = await app.inject({ method: 'POST', url: '/permissions/type-grants/folder', headers: as('root', root), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'wirte' } })
  t.equal(privilege.statusCode, 400)
  t.match(privilege.json(), { field: '/privilege', in: 'body' })
  const past = await app.inject({ method: 'POST', url: '/permissions/type-grants/folder', headers: as('root', root), payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read', expiresAt: '2020-01-01T00:00:00Z' } })
  t.equal(past.statusCode, 400)
  t.match(past.json(), { field: '/expiresAt' })
  for (const [query, field] of [['', '/kind'], ['?kind=user', '/principal'], ['?kind=anonymous&principal=x', '/principal'], ['?kind=robot&principal=x', '/kind'], ['?kind=user&principal=a%00', '/principal']]) {
    const res = await app.inject({ method: 'DELETE', url: `/permissions/type-grants/folder/read${query as string}`, headers: as('root', root) })
    t.equal(res.statusCode, 400, `revoke ${query as string}`)
    t.match(res.json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', field, in: 'query' })
  }
  t.same(await rows(), [])
})

t.test('with step-up covering manage, a superuser needs the second factor to change them, not to read them', async (t) => {
  const { app, as, rows } = await setup(t, { stepUp: {} })
  const payload = { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
  const without = await app.inject({ method: 'POST', url: '/permissions/type-grants/document', headers: as('root', root), payload })
  t.equal(without.statusCode, 401)
  t.equal(without.json().code, 'FST_DEFAULT_DENY_STEP_UP_REQUIRED')
  t.equal((await app.inject({ method: 'DELETE', url: '/permissions/type-grants/document/read?kind=user&principal=carol', headers: as('root', root) })).statusCode, 401)
  t.same(await rows(), [], 'nothing written')
  t.equal((await app.inject({ url: '/permissions/type-grants/document', headers: as('root', root) })).statusCode, 200, 'reading is a read')
  const withFactor = await app.inject({ method: 'POST', url: '/permissions/type-grants/document', headers: as('root', { ...root, amr: ['pwd', 'mfa'] }), payload })
  t.equal(withFactor.statusCode, 201)
})

t.test('the list shows live and scheduled type-level grants, never expired ones', async (t) => {
  const { app, as, db, schema } = await setup(t)
  const g = db.withSchema(schema).insertInto('default_deny_grant')
  // Written in SQL: the plugin refuses a grant already past its expiry.
  await g.values({ principal_kind: 'user', principal_id: 'gone', resource_type: 'document', resource_id: null, privilege: 'read', expires_at: new Date(Date.now() - 60_000) }).execute()
  await g.values({ principal_kind: 'user', principal_id: 'later', resource_type: 'document', resource_id: null, privilege: 'read', starts_at: new Date(Date.now() + 3_600_000) }).execute()
  await g.values({ principal_kind: 'user', principal_id: 'now', resource_type: 'document', resource_id: null, privilege: 'read', expires_at: new Date(Date.now() + 3_600_000) }).execute()
  const list = await app.inject({ url: '/permissions/type-grants/document', headers: as('root', root) })
  t.equal(list.statusCode, 200)
  t.same(list.json().grants.map((grant: { grantee: { id: string } }) => grant.grantee.id).sort(), ['later', 'now'])
})
