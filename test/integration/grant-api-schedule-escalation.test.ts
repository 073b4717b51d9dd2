// Rescheduling a grant is changing it: a manager who may not grant a
// privilege may not extend (or otherwise reschedule) someone else's grant of
// it either, through any route that sets a grantee's privileges.
import t from 'tap'
import { build, snapshot } from '../helper.js'

async function world (t: Parameters<typeof build>[0]) {
  const built = await build(t)
  await built.app.ready()
  const p = built.app.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  // carol manages d1 and holds read; dave holds delete for two days.
  for (const privilege of ['manage', 'read'] as const) {
    await p.grant({ resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'carol' }, privilege, grantedBy: 'olga' })
  }
  const expiresAt = new Date(Date.now() + 2 * 86_400_000)
  await p.grant({ resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'dave' }, privilege: 'delete', expiresAt, grantedBy: 'olga' })
  return { ...built, expiresAt }
}

t.test('a manager cannot make a privilege it does not hold last longer', async (t) => {
  const { app, as, db, schema, expiresAt } = await world(t)
  const before = await snapshot(db, schema)
  const set = await app.inject({
    method: 'PUT', url: '/permissions/document/d1/grantees/user/dave', headers: as('carol'), payload: { privileges: ['delete'], reason: 'for good' }
  })
  t.equal(set.statusCode, 403)
  t.equal(set.json().code, 'FST_DEFAULT_DENY_ESCALATION')
  const whole = await app.inject({
    method: 'PUT',
    url: '/permissions/document/d1/grants',
    headers: as('carol'),
    payload: {
      grants: [
        { grantee: { kind: 'user', id: 'carol' }, privilege: 'manage' },
        { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' },
        { grantee: { kind: 'user', id: 'dave' }, privilege: 'delete', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() }
      ]
    }
  })
  t.equal(whole.statusCode, 403)
  t.equal(whole.json().code, 'FST_DEFAULT_DENY_ESCALATION')
  t.same(await snapshot(db, schema), before, 'no row and no audit entry written')
  const [dave] = (await app.permissions.listGrants({ resource: 'document', id: 'd1' })).filter((g) => g.grantee.kind === 'user' && g.grantee.id === 'dave')
  t.same(dave?.expiresAt, expiresAt, 'the grant still expires when it did')
})

t.test('the owner may reschedule it, and a manager may reschedule what it holds', async (t) => {
  const { app, as } = await world(t)
  const owner = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grantees/user/dave', headers: as('olga'), payload: { privileges: ['delete'] } })
  t.equal(owner.statusCode, 200)
  t.same(owner.json().changed, ['delete'])
  await app.permissions.grant({ resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'erin' }, privilege: 'read', expiresAt: new Date(Date.now() + 86_400_000) })
  const manager = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grantees/user/erin', headers: as('carol'), payload: { privileges: ['read'] } })
  t.equal(manager.statusCode, 200)
  t.same(manager.json().changed, ['read'])
})
