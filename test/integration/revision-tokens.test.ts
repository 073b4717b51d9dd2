// Revisions: every write hands one out (the service API's result, the grant
// API's response header), each at or past the one before; a check may
// present one, and anything that is not one is refused before any check.
import t, { type Test } from 'tap'
import { sql } from 'kysely'
import { parseRevision, REVISION_HEADER } from '../../lib/revision.js'
import { build, snapshot } from '../helper.js'

const carol = { kind: 'user', id: 'carol' } as const
const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/

async function setup (t: Parameters<typeof build>[0]) {
  const built = await build(t, { superuserClaim: 'su' })
  let ran = 0
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await built.app.ready()
  await built.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  return { ...built, ran: () => ran }
}

/** Each revision a valid one, and none before the one before it. */
function ascending (t: Test, revisions: Array<string | null | undefined>): void {
  let last = 0n
  for (const [i, revision] of revisions.entries()) {
    t.match(revision, LSN, `write ${i} returned a revision`)
    const position = parseRevision(revision) as bigint
    t.ok(position >= last, `write ${i}'s revision is not before the previous one`)
    last = position
  }
}

t.test('every service write returns a revision, each at or past the one before', async (t) => {
  const { app } = await setup(t)
  const p = app.permissions
  const target = { resource: 'document', id: 'd1' }
  const revisions = [
    (await p.grant({ ...target, grantee: carol, privilege: 'read' })).revision,
    (await p.grant({ ...target, grantee: carol, privilege: 'read' })).revision,
    (await p.grantMany([{ ...target, grantee: carol, privilege: 'edit' }])).revision,
    (await p.replace({ ...target, grantee: carol, privileges: ['read'] })).revision,
    (await p.revoke({ ...target, grantee: carol, privilege: 'read' })).revision,
    (await p.setOwner({ ...target, owner: 'olga' })).revision,
    (await p.addMember({ group: 'team', member: carol })).revision,
    (await p.removeMember({ group: 'team', member: carol })).revision,
    (await p.purgeExpired()).revision,
    (await p.forgetResource({ resource: 'document', id: 'd2' })).revision,
    await p.revision()
  ]
  ascending(t, revisions)
})

t.test('inside a host transaction a write has no revision yet; revision() after the commit covers it', async (t) => {
  const { app, db } = await setup(t)
  const before = parseRevision(await app.permissions.revision()) as bigint
  const inside = await db.transaction().execute(async (trx) =>
    await app.permissions.grant({ resource: 'document', id: 'd1', grantee: carol, privilege: 'read' }, { db: trx }))
  t.equal(inside.revision, null, 'the transaction had not committed when the call returned')
  const after = parseRevision(await app.permissions.revision()) as bigint
  t.ok(after > before, 'the commit moved the position on')
})

t.test('the grant API: each change answers with its revision in a header; reads and refusals carry none', async (t) => {
  const { app, as } = await setup(t)
  const added = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: carol, privilege: 'read' } })
  t.equal(added.statusCode, 201)
  const put = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grantees/user/carol', headers: as('olga'), payload: { privileges: ['read', 'edit'] } })
  const member = await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/user/carol', headers: as('olga', { su: true }) })
  t.equal(member.statusCode, 201)
  const revoked = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit', headers: as('olga') })
  ascending(t, [added, put, member, revoked].map((res) => res.headers[REVISION_HEADER] as string | undefined))

  const read = await app.inject({ url: '/permissions/document/d1/grants', headers: as('olga') })
  t.equal(read.statusCode, 200)
  t.notOk(REVISION_HEADER in read.headers, 'a read changes nothing')
  const refused = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('mallory'), payload: { grantee: carol, privilege: 'read' } })
  t.equal(refused.statusCode, 403)
  t.notOk(REVISION_HEADER in refused.headers, 'a refused change has no revision')
  const invalid = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: carol, privilege: 'fly' } })
  t.equal(invalid.statusCode, 400)
  t.notOk(REVISION_HEADER in invalid.headers)
})

t.test('a route check presenting a revision decides as without one', async (t) => {
  const { app, as, ran } = await setup(t)
  const { revision } = await app.permissions.grant({ resource: 'document', id: 'd1', grantee: carol, privilege: 'read' })
  const headers = { ...as('carol'), [REVISION_HEADER]: revision as string }
  t.equal((await app.inject({ url: '/d/d1', headers })).statusCode, 200)
  t.equal((await app.inject({ url: '/d/d2', headers })).statusCode, 403)
  t.equal(await app.permissions.check({ id: 'carol', kind: 'user', groups: [], superuser: false, claims: {} }, { resource: 'document', id: 'd1', privilege: 'read' }, { revision }), true)
  // A position no write has reached yet: the answer is still today's.
  const future = { ...as('carol'), [REVISION_HEADER]: 'FFFFFFFF/FFFFFFFF' }
  t.equal((await app.inject({ url: '/d/d1', headers: future })).statusCode, 200)
  t.equal(ran(), 2)
})

t.test('anything that is not a revision is refused with 400, before any check, and writes nothing', async (t) => {
  const { app, as, db, schema, ran } = await setup(t)
  await app.permissions.grant({ resource: 'document', id: 'd1', grantee: carol, privilege: 'read' })
  const before = await snapshot(db, schema)
  for (const bad of ['', 'x', '0/', '/0', '1/2/3', '123456789/0', '0/123456789', 'G/0', ' 0/1', '0/1 ', '0/1, 0/2', '-1/0', '0x1/0']) {
    const res = await app.inject({ url: '/d/d1', headers: { ...as('carol'), [REVISION_HEADER]: bad } })
    t.equal(res.statusCode, 400, `'${bad}'`)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_INVALID_REVISION')
    t.equal(res.json().message, 'Invalid revision', 'a generic message')
  }
  t.equal(ran(), 0, 'the handler never ran')
  const principal = { id: 'carol', kind: 'user' as const, groups: [], superuser: false, claims: {} }
  for (const bad of ['x', 42, {}, ['0/1']]) {
    await t.rejects(app.permissions.check(principal, { resource: 'document', id: 'd1', privilege: 'read' }, { revision: bad as never }), { code: 'FST_DEFAULT_DENY_INVALID_REVISION' })
    await t.rejects(app.permissions.checkMany(principal, { resource: 'document', privilege: 'read', ids: ['d1'] }, { revision: bad as never }), { code: 'FST_DEFAULT_DENY_INVALID_REVISION' })
    await t.rejects(app.permissions.listIds(principal, { resource: 'document', privilege: 'read' }, { revision: bad as never }), { code: 'FST_DEFAULT_DENY_INVALID_REVISION' })
  }
  t.same(await snapshot(db, schema), before, 'nothing written')
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 200, 'the same request without the header passes')
})

t.test('revisions are positions of the database the writes went to', async (t) => {
  const { app, db } = await setup(t)
  const { revision } = await app.permissions.grant({ resource: 'document', id: 'd1', grantee: carol, privilege: 'read' })
  const { rows } = await sql<{ ok: boolean }>`select ${revision}::pg_lsn <= pg_current_wal_insert_lsn() as ok`.execute(db)
  t.equal(rows[0]?.ok, true)
})
