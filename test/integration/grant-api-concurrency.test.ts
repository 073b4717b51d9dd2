// Concurrent changes end in a state some serial order would give, the audit
// trail records that order, and a manager losing its right cannot sneak a
// grant in after the revoke.
import t from 'tap'
import { build, usingPostgres } from '../helper.js'

t.test('100 interleaved grant/revoke on one tuple: a serial history', async (t) => {
  const { app, as } = await build(t)
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  const headers = as('olga')
  const requests = Array.from({ length: 100 }, (_, i) => i % 2 === 0
    ? app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers, payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' } })
    : app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/read', headers }))
  const responses = await Promise.all(requests)
  t.same([...new Set(responses.map((r) => r.statusCode))].sort(), responses.some((r) => r.statusCode === 201) ? [200, 201] : [200], 'no 5xx, no conflicts')

  const entries = (await app.permissions.audit({ resource: { resource: 'document', id: 'd1' }, grantee: { kind: 'user', id: 'carol' }, limit: 1000 })).reverse()
  t.ok(entries.length > 0 && entries.length <= 100)
  let state: string[] = []
  let consistent = true
  for (const entry of entries) {
    if (JSON.stringify(entry.before) !== JSON.stringify(state)) consistent = false
    state = entry.after
  }
  t.ok(consistent, 'each audit entry starts from the state the previous one left')
  const final = (await app.permissions.listGrants({ resource: 'document', id: 'd1' })).map((g) => g.privilege)
  t.same(final, state, 'the stored state is the last audited state')
  const created = responses.filter((r) => r.statusCode === 201).length
  t.equal(entries.filter((e) => e.action === 'grant').length, created, 'one grant entry per 201')
  t.same((await app.permissions.verifyAudit()).ok, true)
})

t.test(`a grant never commits after the revoke of the granter's manage right${usingPostgres ? '' : ' (serialised by PGlite)'}`, async (t) => {
  const { app, as } = await build(t)
  await app.ready()
  for (let round = 0; round < 5; round++) {
    const id = `r${round}`
    await app.permissions.setOwner({ resource: 'document', id, owner: 'olga' })
    await app.permissions.replace({ grantee: { kind: 'user', id: 'mary' }, resource: 'document', id, privileges: ['manage', 'read'] })
    const grants = Array.from({ length: 20 }, (_, i) => app.inject({
      method: 'POST', url: `/permissions/document/${id}/grants`, headers: as('mary'), payload: { grantee: { kind: 'user', id: `u${i}` }, privilege: 'read' }
    }))
    const revoke = app.inject({ method: 'DELETE', url: `/permissions/document/${id}/grants/user/mary/manage`, headers: as('olga') })
    const [revoked, ...granted] = await Promise.all([revoke, ...grants])
    t.equal(revoked?.statusCode, 200)
    t.ok(granted.every((r) => r.statusCode === 201 || r.statusCode === 403), 'each grant either committed or was refused')

    const entries = (await app.permissions.audit({ resource: { resource: 'document', id }, limit: 1000 })).reverse()
    const revokeAt = entries.findIndex((e) => e.action === 'revoke' && e.grantee?.kind === 'user' && (e.grantee as { id: string }).id === 'mary')
    t.ok(revokeAt >= 0)
    t.notOk(entries.slice(revokeAt + 1).some((e) => e.actor === 'mary'), 'no grant by mary is ordered after the revoke')
    t.equal(entries.filter((e) => e.actor === 'mary').length, granted.filter((r) => r.statusCode === 201).length,
      'every acknowledged grant is in the trail, before the revoke')
  }
})
