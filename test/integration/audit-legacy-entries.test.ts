// Entries written before schedules were audited (plain privilege names, a
// purge as a count) still verify beside the new ones, and read back with
// `schedule: null`; a key slipped into a stored schedule is found.
import { createHash } from 'node:crypto'
import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

t.test('an old entry verifies and reads as it did; the chain goes on after it', async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  const table = sql.id(schema, 'default_deny_audit')
  // As the earlier code hashed an entry: positional JSON over its fields, privileges as names.
  const at = new Date('2026-12-01T10:00:00.000Z')
  const fields = [at.toISOString(), 'olga', 'grant', 'user', 'carol', 'document', 'd1', ['read'], ['edit', 'read'], null, 'old']
  const prev = '0'.repeat(64)
  const hash = createHash('sha256').update(JSON.stringify([prev, ...fields])).digest('hex')
  await sql`insert into ${table} (at, actor, action, principal_kind, principal_id, resource_type, resource_id, before, after, request_id, reason, prev_hash, hash)
    values (${at}, 'olga', 'grant', 'user', 'carol', 'document', 'd1', ${JSON.stringify(['read'])}::jsonb, ${JSON.stringify(['edit', 'read'])}::jsonb, null, 'old', ${prev}, ${hash})`.execute(db)
  await app.permissions.grant({ resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'carol' }, privilege: 'read', expiresAt: new Date(Date.now() + 86_400_000) })
  t.same(await app.permissions.verifyAudit(), { ok: true, entries: 2, brokenAt: null, broken: [], brokenCount: 0 })
  const [now, old] = await app.permissions.audit()
  t.match(old, { before: ['read'], after: ['edit', 'read'], schedule: null, reason: 'old' })
  t.match(now, { action: 'grant', before: [], after: ['read'], schedule: { before: [], after: [{ privilege: 'read', startsAt: null }] } })

  // Someone adds a key to the stored schedule: the entry no longer fits its hash.
  await sql`update ${table} set after = jsonb_set(after, '{0,note}', '"x"') where seq = ${now?.seq}`.execute(db)
  t.match(await app.permissions.verifyAudit(), { ok: false, broken: [{ seq: now?.seq, problem: 'hash' }] })
})
