// Bulk changes: one transaction, all or nothing.
import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

t.test('N resources × M principals in one request', async (t) => {
  const { app, as } = await build(t)
  await app.ready()
  for (const id of ['d1', 'd2', 'd3']) await app.permissions.setOwner({ resource: 'document', id, owner: 'olga' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'old' }, resource: 'document', id: 'd1', privilege: 'read' })
  const grant = []
  for (const id of ['d1', 'd2', 'd3']) {
    for (const grantee of [{ kind: 'user', id: 'carol' }, { kind: 'group', id: 'staff' }]) grant.push({ resource: 'document', id, grantee, privilege: 'read' })
  }
  const res = await app.inject({
    method: 'POST', url: '/permissions/bulk', headers: as('olga'),
    payload: { grant, revoke: [{ resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'old' }, privilege: 'read' }], reason: 'quarterly review' }
  })
  t.equal(res.statusCode, 200)
  t.equal(res.json().changes.length, 7)
  for (const id of ['d1', 'd2', 'd3']) {
    t.same((await app.permissions.listGrants({ resource: 'document', id })).map((g) => (g.grantee as any).id).sort(), ['carol', 'staff'])
  }
  const audit = await app.permissions.audit({ limit: 100 })
  t.ok(audit.filter((e) => e.reason === 'quarterly review').length === 7, 'one audit row per change, with the reason')
})

t.test('one forbidden resource: 403 and nothing written', async (t) => {
  const { app, as, db, schema } = await build(t)
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  await app.permissions.setOwner({ resource: 'document', id: 'd2', owner: 'zed' })
  const before = await db.withSchema(schema).selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  const res = await app.inject({
    method: 'POST', url: '/permissions/bulk', headers: as('olga'),
    payload: {
      grant: [
        { resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'carol' }, privilege: 'read' },
        { resource: 'document', id: 'd2', grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
      ]
    }
  })
  t.equal(res.statusCode, 403)
  t.same(await app.permissions.listGrants({ resource: 'document', id: 'd1' }), [], 'the allowed half was rolled back too')
  const after = await db.withSchema(schema).selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  t.equal(after.n, before.n, 'no audit rows')

  const ineligible = await app.inject({
    method: 'POST', url: '/permissions/bulk', headers: as('olga'),
    payload: { grant: [
      { resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'carol' }, privilege: 'read' },
      { resource: 'document', id: 'd1', grantee: { kind: 'anonymous' }, privilege: 'delete' }
    ] }
  })
  t.equal(ineligible.statusCode, 422)
  t.same(await app.permissions.listGrants({ resource: 'document', id: 'd1' }), [])
  const tooMany = await app.inject({
    method: 'POST', url: '/permissions/bulk', headers: as('olga'),
    payload: { grant: Array.from({ length: 1001 }, (_, i) => ({ resource: 'document', id: `d${i}`, grantee: { kind: 'user', id: 'c' }, privilege: 'read' })) }
  })
  t.equal(tooMany.statusCode, 400)
})
