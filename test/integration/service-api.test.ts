import t from 'tap'
import { sql } from 'kysely'
import { build, withoutRevision } from '../helper.js'

t.test('grant is idempotent: no second row, no error, even when concurrent', async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  const input = { grantee: { kind: 'group', id: 'editors' }, resource: 'document', id: '1', privilege: 'edit' } as const
  const results = await Promise.all(Array.from({ length: 20 }, () => app.permissions.grant(input)))
  t.equal(results.filter((r) => r.created).length, 1, 'exactly one call created the row')
  t.same(withoutRevision(await app.permissions.grant(input)), { created: false, changed: false })
  const rows = await db.withSchema(schema).selectFrom('default_deny_grant').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  t.equal(rows.n, 1)
})

t.test('listGrants reports who holds what, without internal ids', async (t) => {
  const { app } = await build(t)
  await app.ready()
  const expiresAt = new Date(Date.now() + 3600_000)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read', grantedBy: 'olga', expiresAt })
  await app.permissions.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: '1', privilege: 'read' })
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'read' })
  const grants = await app.permissions.listGrants({ resource: 'document', id: '1' })
  t.equal(grants.length, 2, 'type-level grants are listed with id null, not per instance')
  t.match(grants, [
    { grantee: { kind: 'anonymous' }, privilege: 'read', grantedBy: null, expiresAt: null },
    { grantee: { kind: 'user', id: 'alice' }, privilege: 'read', grantedBy: 'olga' }
  ])
  t.equal(grants[1]?.expiresAt?.getTime(), expiresAt.getTime())
  t.ok(grants.every((grant) => grant.grantedAt instanceof Date))
  t.notOk('id' in (grants[0]?.grantee ?? {}), 'anonymous has no id')
  t.same((await app.permissions.listGrants({ resource: 'document', id: null })).map((g) => g.grantee), [{ kind: 'group', id: 'staff' }])
})

t.test('check() makes the same decision as the route hook', async (t) => {
  const { app, as } = await build(t)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'g' }, resource: 'document', id: '1', privilege: 'read' })
  const principal = { kind: 'user', id: 'alice', groups: ['g'], superuser: false, claims: null } as const
  for (const id of ['1', '2']) {
    const viaHook = (await app.inject({ url: `/d/${id}`, headers: as('alice', { groups: ['g'] }) })).statusCode === 200
    t.equal(await app.permissions.check(principal, { resource: 'document', id, privilege: 'read' }), viaHook, id)
  }
  await t.rejects(app.permissions.check(principal, { resource: 'document', id: '1', privilege: 'write' as never }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
})

t.test('grants written inside a host transaction roll back with it', async (t) => {
  const { app, db } = await build(t)
  await app.ready()
  await t.rejects(db.transaction().execute(async (trx) => {
    await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' }, { db: trx })
    throw new Error('rollback')
  }))
  t.same(await app.permissions.listGrants({ resource: 'document', id: '1' }), [])
})
