// purgeExpired: expired grants deleted in small batches, each batch audited
// in its own transaction (an entry per grantee and resource, with the grants'
// schedules); grants in effect or scheduled stay.
import t from 'tap'
import { sql } from 'kysely'
import { build, withoutRevision } from '../helper.js'

t.test('deletes only expired grants, in batches, and audits each batch', async (t) => {
  const { app, db, schema } = await build(t)
  const p = app.permissions
  for (let i = 0; i < 7; i++) {
    await p.grant({ grantee: { kind: 'user', id: `u${i}` }, resource: 'document', id: 'd1', privilege: 'read', expiresAt: new Date(Date.now() + 60_000) })
  }
  await p.grant({ grantee: { kind: 'user', id: 'keep' }, resource: 'document', id: 'd1', privilege: 'read' })
  await p.grant({ grantee: { kind: 'user', id: 'later' }, resource: 'document', id: 'd1', privilege: 'read', startsAt: new Date(Date.now() + 60_000) })
  await sql`update ${sql.id(schema, 'default_deny_grant')} set expires_at = now() - interval '1 second' where principal_id like 'u%'`.execute(db)
  const auditBefore = (await p.audit({ limit: 1000 })).length

  t.same(withoutRevision(await p.purgeExpired({ batchSize: 3 }, { actor: 'ops', reason: 'nightly' })), { purged: 7 })
  t.same((await p.listGrants({ resource: 'document', id: 'd1' })).map((g) => g.grantee).sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1),
    [{ kind: 'user', id: 'keep' }, { kind: 'user', id: 'later' }])
  const audit = await p.audit({ limit: 1000 })
  t.equal(audit.length, auditBefore + 7, 'one entry per grantee and resource, in batches of 3')
  t.same(audit.slice(0, 7).map((e) => e.grantee?.kind === 'user' ? e.grantee.id : null).sort(), ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6'])
  for (const entry of audit.slice(0, 7)) {
    t.match(entry, { action: 'purge', resource: 'document', id: 'd1', before: ['read'], after: [], actor: 'ops', reason: 'nightly' })
    t.same(entry.schedule?.before.map((g) => [g.privilege, g.startsAt, (g.expiresAt?.getTime() ?? Infinity) < Date.now()]), [['read', null, true]], 'the grant with its schedule')
  }
  t.equal((await p.verifyAudit()).ok, true, 'the chain still verifies')
  t.same(withoutRevision(await p.purgeExpired()), { purged: 0 }, 'nothing left to purge')
  t.equal((await p.audit({ limit: 1000 })).length, auditBefore + 7, 'an empty purge writes no entry')
})

t.test('bad input is refused with INVALID_GRANT', async (t) => {
  const { app, db } = await build(t)
  await t.rejects(app.permissions.purgeExpired({ batchSize: 0 }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(app.permissions.purgeExpired({ batchSize: 1.5 }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(db.transaction().execute(async (trx) => await app.permissions.purgeExpired({}, { db: trx })),
    { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, 'not inside a host transaction')
})
