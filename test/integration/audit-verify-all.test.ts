// Verification names every audit row that does not fit, not just the first,
// so one edited row does not hide a second one (or a deletion) behind it.
import t, { type Test } from 'tap'
import { sql, type Kysely } from 'kysely'
import { build, type Built } from '../helper.js'

interface Verification {
  ok: boolean
  entries: number
  brokenAt: string | null
  broken: Array<{ seq: string, problem: 'hash' | 'link' }>
  brokenCount: number
}

const SU = { su: true }

async function seqs (db: Kysely<any>, schema: string): Promise<string[]> {
  const rows = await db.withSchema(schema).selectFrom('default_deny_audit').select('seq').orderBy('seq').execute()
  return rows.map((r) => String(r.seq))
}

async function tamper (db: Kysely<any>, schema: string, seq: string[]): Promise<void> {
  await sql`update ${sql.table(`${schema}.default_deny_audit`)} set reason = 'edited' where seq in (${sql.join(seq)})`.execute(db)
}

/** Both ways of asking must give the same answer; returns it. */
async function verify (t: Test, { app, as }: Built): Promise<Verification> {
  const res = await app.inject({ url: '/permissions/audit/verify', headers: as('root', SU) })
  t.equal(res.statusCode, 200, 'verify answers 200')
  // The declared return type may still be the old shape; read through a cast.
  const service = await app.permissions.verifyAudit() as unknown as Verification
  t.same(res.json(), service, 'the HTTP route and the service API agree')
  return service
}

async function setup (t: Test) {
  const built = await build(t, { superuserClaim: 'su' })
  await built.app.ready()
  await built.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' }, { actor: 'olga', reason: 'created' })
  return built
}

/** One audit row per grantee, written by olga through the bulk route. */
async function bulkGrants (t: Test, { app, as }: Built, prefix: string, count: number): Promise<void> {
  // Batches of 100 keep each request well inside the write time budget
  // (checkTimeout): these tests are about verification, not big writes.
  for (let start = 0; start < count; start += 100) {
    const grant = Array.from({ length: Math.min(100, count - start) }, (_, i) => ({
      resource: 'document', id: 'd1', grantee: { kind: 'user', id: `${prefix}${start + i}` }, privilege: 'read'
    }))
    const res = await app.inject({ method: 'POST', url: '/permissions/bulk', headers: as('olga'), payload: { grant, reason: 'quarterly access review' } })
    t.equal(res.statusCode, 200, `bulk grant of ${prefix}${start}..`)
  }
}

t.test('an intact trail reports nothing broken', async (t) => {
  const built = await setup(t)
  for (let i = 1; i <= 5; i++) {
    await built.app.permissions.grant({ grantee: { kind: 'user', id: `u${i}` }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga' }, { reason: `onboarding u${i}` })
  }
  t.same(await verify(t, built), { ok: true, entries: 6, brokenAt: null, broken: [], brokenCount: 0 })
})

t.test('every edited row is reported as hash, a deletion as link on the next row, and later rows stay good', async (t) => {
  const built = await setup(t)
  const { app, db, schema } = built
  for (let i = 1; i <= 5; i++) {
    await app.permissions.grant({ grantee: { kind: 'user', id: `u${i}` }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga' }, { reason: `onboarding u${i}` })
  }
  const row = await seqs(db, schema)
  t.equal(row.length, 6, 'six entries: the owner and five grants')
  const [r1, r2, r3, r4, r5] = row as [string, string, string, string, string]

  await tamper(db, schema, [r2, r5])
  const edited = await verify(t, built)
  t.equal(edited.ok, false)
  t.equal(edited.brokenAt, r2, 'the first bad row')
  t.same(edited.broken, [{ seq: r2, problem: 'hash' }, { seq: r5, problem: 'hash' }], 'both edited rows, and only them')
  t.equal(edited.brokenCount, 2)

  // The chain goes on from the stored hash: new entries are not reported.
  await app.permissions.grant({ grantee: { kind: 'user', id: 'u6' }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga' })
  const appended = await verify(t, built)
  t.same(appended.broken, [{ seq: r2, problem: 'hash' }, { seq: r5, problem: 'hash' }], 'an entry appended after the edit fits')
  t.equal(appended.brokenCount, 2)

  await db.withSchema(schema).deleteFrom('default_deny_audit').where('seq', '=', r3).execute()
  const deleted = await verify(t, built)
  t.equal(deleted.ok, false)
  t.equal(deleted.brokenAt, r2)
  t.same(deleted.broken, [{ seq: r2, problem: 'hash' }, { seq: r4, problem: 'link' }, { seq: r5, problem: 'hash' }],
    'the row after the deleted one no longer links; its own content still matches its hash')
  t.equal(deleted.brokenCount, 3)

  // Undo the edits: only the deletion remains.
  await sql`update ${sql.table(`${schema}.default_deny_audit`)} set reason = ${'onboarding u1'} where seq = ${r2}`.execute(db)
  await sql`update ${sql.table(`${schema}.default_deny_audit`)} set reason = ${'onboarding u4'} where seq = ${r5}`.execute(db)
  const restored = await verify(t, built)
  t.equal(restored.brokenAt, r4, 'the first bad row is now the one after the gap')
  t.same(restored.broken, [{ seq: r4, problem: 'link' }])
  t.equal(restored.brokenCount, 1)
  t.notOk((restored.broken ?? []).some((b) => b.seq === r1), 'the first row was never touched')
})

t.test('deleting the first row breaks the link of the second', async (t) => {
  const built = await setup(t)
  const { app, db, schema } = built
  for (let i = 1; i <= 3; i++) {
    await app.permissions.grant({ grantee: { kind: 'user', id: `u${i}` }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga' })
  }
  const [r1, r2] = await seqs(db, schema) as [string, string]
  await db.withSchema(schema).deleteFrom('default_deny_audit').where('seq', '=', r1).execute()
  const result = await verify(t, built)
  t.match(result, { ok: false, brokenAt: r2, broken: [{ seq: r2, problem: 'link' }], brokenCount: 1 })
  t.equal(result.broken?.length, 1)
})

t.test('at most 100 broken rows are listed; the count covers all of them', async (t) => {
  const built = await setup(t)
  const { db, schema } = built
  await bulkGrants(t, built, 'member', 200)
  const row = await seqs(db, schema)
  t.equal(row.length, 201)
  const edited = row.slice(20, 170)
  await tamper(db, schema, edited)
  const result = await verify(t, built)
  t.equal(result.ok, false)
  t.equal(result.brokenAt, edited[0])
  t.equal(result.brokenCount, 150)
  t.equal(result.broken?.length, 100)
  t.same(result.broken, edited.slice(0, 100).map((seq) => ({ seq, problem: 'hash' })), 'the first 100, in seq order')
})

t.test('rows on both sides of a thousand-row page are all found', async (t) => {
  const built = await setup(t)
  const { db, schema } = built
  await bulkGrants(t, built, 'member', 1100)
  const row = await seqs(db, schema)
  t.equal(row.length, 1101)
  const edited = [row[0], row[998], row[999], row[1000], row[1001], row[1100]] as string[]
  await tamper(db, schema, edited)
  const result = await verify(t, built)
  t.equal(result.ok, false)
  t.equal(result.brokenAt, row[0])
  t.same(result.broken, edited.map((seq) => ({ seq, problem: 'hash' })))
  t.equal(result.brokenCount, 6)
})
