// The audit trail: one entry per change, hash-chained, verifiable, paginated.
import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

t.test('every kind of change appends an entry with actor, before, after, request id and reason', async (t) => {
  const { app, as } = await build(t, { superuserClaim: 'su' }, { requestIdHeader: 'x-request-id' })
  await app.ready()
  const p = app.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' }, { actor: 'system', reason: 'created' })
  const res = await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: { ...as('olga'), 'x-request-id': 'req-7f3a' },
    payload: { grantee: { kind: 'group', id: 'staff' }, privilege: 'read', reason: 'team access' }
  })
  t.equal(res.statusCode, 201)
  await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: { kind: 'group', id: 'staff' }, privilege: 'read' } })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'edit', grantedBy: 'olga' })
  await p.replace({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privileges: ['read'] }, { actor: 'olga' })
  await p.revoke({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read' })
  await p.forgetResource({ resource: 'document', id: 'd1' }, { actor: 'system' })

  const entries = (await p.audit({ resource: { resource: 'document', id: 'd1' } })).reverse()
  t.same(entries.map((e) => [e.action, e.actor, e.before, e.after]), [
    ['owner', 'system', [], ['olga']],
    ['grant', 'olga', [], ['read']],
    ['grant', 'olga', [], ['edit']],
    ['replace', 'olga', ['edit'], ['read']],
    ['revoke', null, ['read'], []],
    ['forget', 'system', ['group:staff:read', 'owner:olga'], []]
  ], 'the idempotent second grant wrote nothing')
  t.equal(entries[0]?.reason, 'created')
  t.equal(entries[1]?.reason, 'team access')
  t.equal(entries[1]?.requestId, 'req-7f3a', 'the request id of the HTTP call')
  t.equal(entries[2]?.requestId, null, 'service calls have none unless given')
  t.match(entries[1], { grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd1' })
  t.ok(entries.every((e) => e.at instanceof Date && /^[0-9a-f]{64}$/.test(e.hash)))

  const http = await app.inject({ url: '/permissions/document/d1/audit?limit=2', headers: as('root', { su: true }) })
  t.equal(http.statusCode, 200)
  t.equal(http.json().entries.length, 2)
  t.equal(http.json().entries[0].action, 'forget', 'newest first')
  const next = await app.inject({ url: `/permissions/document/d1/audit?limit=2&before=${http.json().next}`, headers: as('root', { su: true }) })
  t.same(next.json().entries.map((e: any) => e.action), ['replace', 'grant'])
  const byPrincipal = await app.inject({ url: '/permissions/audit?kind=user&principal=carol', headers: as('root', { su: true }) })
  t.same(byPrincipal.json().entries.map((e: any) => e.action), ['revoke', 'replace', 'grant'])
})

t.test('the hash chain verifies, and an edited or deleted row is found', async (t) => {
  const { app, as, db, schema } = await build(t, { superuserClaim: 'su' })
  await app.ready()
  for (let i = 0; i < 5; i++) {
    await app.permissions.grant({ grantee: { kind: 'user', id: `u${i}` }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga' })
  }
  const ok = await app.inject({ url: '/permissions/audit/verify', headers: as('root', { su: true }) })
  t.same(ok.json(), { ok: true, entries: 5, brokenAt: null, broken: [], brokenCount: 0 })

  const audit = db.withSchema(schema)
  const rows = await audit.selectFrom('default_deny_audit').select(['seq', 'after']).orderBy('seq').execute()
  // Someone with database access rewrites history: u2 never got read.
  await audit.updateTable('default_deny_audit').set({ after: JSON.stringify([]) }).where('seq', '=', rows[2]!.seq).execute()
  const edited = await app.permissions.verifyAudit()
  // Every entry is checked; only the edited one is reported.
  t.same(edited, { ok: false, entries: 5, brokenAt: String(rows[2]!.seq), broken: [{ seq: String(rows[2]!.seq), problem: 'hash' }], brokenCount: 1 })

  await audit.updateTable('default_deny_audit').set({ after: JSON.stringify(rows[2]!.after) }).where('seq', '=', rows[2]!.seq).execute()
  t.equal((await app.permissions.verifyAudit()).ok, true, 'restored')
  await audit.deleteFrom('default_deny_audit').where('seq', '=', rows[3]!.seq).execute()
  t.same(await app.permissions.verifyAudit(), {
    ok: false, entries: 4, brokenAt: String(rows[4]!.seq), broken: [{ seq: String(rows[4]!.seq), problem: 'link' }], brokenCount: 1
  }, 'a deleted row breaks the next link')
  const count = await audit.selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  t.equal(count.n, 4)
})
