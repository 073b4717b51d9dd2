// grantMany writes in a few statements what one grant() per input writes:
// the same rows, the same audit entries in the same order, the same answers,
// however the inputs repeat or reschedule one another within the call.
import { sql, type Kysely } from 'kysely'
import t from 'tap'
import type { GrantInput } from '../../fastify-plugin.js'
import { build } from '../helper.js'

const user = (id: string) => ({ kind: 'user' as const, id })
const staff = { kind: 'group' as const, id: 'staff' }
const DAY = 24 * 60 * 60 * 1000
const at = (days: number) => new Date(Date.UTC(2030, 0, 1) + days * DAY)

// Held before the call, on both databases.
const EXISTING: GrantInput[] = [
  { grantee: user('u2'), resource: 'document', id: 'd2', privilege: 'read' },
  { grantee: user('u3'), resource: 'document', id: 'd3', privilege: 'read', expiresAt: at(10) },
  { grantee: staff, resource: 'document', id: null, privilege: 'read', expiresAt: at(20) },
  { grantee: { kind: 'anonymous' as const }, resource: 'document', id: 'd4', privilege: 'read', startsAt: at(1), expiresAt: at(30) }
]

// In order: each line's comment says what one grant() would do at that point.
const CHUNK: GrantInput[] = [
  { grantee: user('u1'), resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'ann' }, // created
  { grantee: user('u1'), resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'bob' }, // the same: nothing
  { grantee: user('u1'), resource: 'document', id: 'd1', privilege: 'edit' }, // created, read held before it
  { grantee: user('u1'), resource: 'document', id: 'd1', privilege: 'read', expiresAt: at(5) }, // a row of this call rescheduled
  { grantee: user('u1'), resource: 'document', id: 'd1', privilege: 'read', expiresAt: at(5) }, // the same schedule: nothing
  { grantee: user('u1'), resource: 'document', id: 'd1', privilege: 'read', startsAt: at(2), expiresAt: at(6) }, // again
  { grantee: user('u2'), resource: 'document', id: 'd2', privilege: 'read' }, // held, unchanged: nothing
  { grantee: user('u3'), resource: 'document', id: 'd3', privilege: 'read' }, // held: made to last
  { grantee: user('u3'), resource: 'document', id: 'd3', privilege: 'read', startsAt: at(3) }, // the same held row again
  { grantee: user('u3'), resource: 'document', id: 'd3', privilege: 'delete', expiresAt: at(7) }, // created beside it
  { grantee: staff, resource: 'document', id: null, privilege: 'read', expiresAt: at(25) }, // type-level, held: rescheduled
  { grantee: staff, resource: 'document', id: null, privilege: 'edit', grantedBy: 'olga' }, // type-level, created
  { grantee: staff, resource: 'document', id: 'd3', privilege: 'edit' }, // a group on a resource
  { grantee: { kind: 'anonymous' as const }, resource: 'document', id: 'd4', privilege: 'read' }, // anonymous, held: dates dropped
  { grantee: { kind: 'anonymous' as const }, resource: 'folder', id: 'f1', privilege: 'read' }, // anonymous, created
  { grantee: user('u1'), resource: 'folder', id: 'd1', privilege: 'read' } // another type, the same id
]

async function rows (db: Kysely<any>, schema: string) {
  const grants = await db.withSchema(schema).selectFrom('default_deny_grant')
    .select(['principal_kind', 'principal_id', 'resource_type', 'resource_id', 'privilege', 'granted_by', 'expires_at', 'starts_at'])
    .orderBy('id').execute()
  const audit = await db.withSchema(schema).selectFrom('default_deny_audit')
    .select(['actor', 'action', 'principal_kind', 'principal_id', 'resource_type', 'resource_id', 'before', 'after', 'request_id', 'reason'])
    .orderBy('seq').execute()
  return { grants, audit }
}

t.test('grantMany writes what one grant() per input writes, in the same order', async (t) => {
  const many = await build(t)
  const one = await build(t)
  for (const { app } of [many, one]) {
    await app.ready()
    for (const input of EXISTING) await app.permissions.grant(input, { actor: 'setup' })
  }
  const options = { reason: 'import', requestId: 'req-1' }

  const { created } = await many.app.permissions.grantMany(CHUNK, options)
  const expected: boolean[] = []
  for (const input of CHUNK) expected.push((await one.app.permissions.grant(input, options)).created)

  t.same(created, expected, 'the same answers')
  t.same(created, [true, false, true, false, false, false, false, false, false, true, false, true, true, false, true, true])
  const got = await rows(many.db, many.schema)
  const want = await rows(one.db, one.schema)
  t.same(got.grants, want.grants, 'the same grant rows, inserted in the same order')
  t.same(got.audit, want.audit, 'the same audit entries, in the same order')
  t.same(got.audit.slice(EXISTING.length).map((e) => e.action),
    ['grant', 'grant', 'schedule', 'schedule', 'schedule', 'schedule', 'grant', 'schedule', 'grant', 'grant', 'schedule', 'grant', 'grant'],
    'an entry for each input that changed something, none for the others')
  t.match(await many.app.permissions.verifyAudit(), { ok: true, entries: EXISTING.length + 13, brokenCount: 0 })

  const [row] = got.grants.filter((g) => g.principal_id === 'u1' && g.resource_type === 'document' && g.privilege === 'read')
  t.same([new Date(row?.starts_at).toISOString(), new Date(row?.expires_at).toISOString(), row?.granted_by],
    [at(2).toISOString(), at(6).toISOString(), 'ann'], 'a row created and rescheduled in one call: its last dates, its first grantor')
})

t.test('grantMany in a call as large as it takes: every row, and an entry per grant in input order that verifies', async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  // More rows than one insert of grants, and of audit entries, carries.
  const inputs = Array.from({ length: 6000 }, (_, i) => ({ grantee: user(`u${i % 11}`), resource: 'document', id: `d${5999 - i}`, privilege: 'read' as const }))
  await app.permissions.grant(inputs[4321] as typeof inputs[number])
  const { created } = await app.permissions.grantMany(inputs)
  t.equal(created.filter((c) => !c).length, 1, 'the one held before')
  t.equal(created[4321], false)
  const count = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'default_deny_grant')}`.execute(db)
  t.equal(count.rows[0]?.n, 6000)
  const entries = await db.withSchema(schema).selectFrom('default_deny_audit').select(['resource_id', 'principal_id']).orderBy('seq').offset(1).execute()
  t.same(entries.map((e) => `${e.principal_id}/${e.resource_id}`),
    inputs.filter((_, i) => i !== 4321).map((input) => `${input.grantee.id}/${input.id}`))
  t.match(await app.permissions.verifyAudit(), { ok: true, entries: 6000, brokenCount: 0 })
})
