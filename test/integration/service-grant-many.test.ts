// The service API's bulk methods the CLI's import and export use: grantMany
// (all or nothing, a refusal naming its input, one table lock in a long
// transaction) and scanGrants (every grant, or a grantee's or a type's, a
// page at a time).
import t from 'tap'
import { build, snapshot, withoutRevision } from '../helper.js'

const user = (id: string) => ({ kind: 'user' as const, id })

t.test('grantMany: created per input, idempotent, a refusal names its index and writes nothing', async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  const p = app.permissions
  const first = await p.grantMany([
    { grantee: user('a'), resource: 'document', id: '1', privilege: 'read' },
    { grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'edit', grantedBy: 'olga' }
  ], { reason: 'import' })
  t.same(withoutRevision(first), { created: [true, true] })
  t.same((await p.grantMany([{ grantee: user('a'), resource: 'document', id: '1', privilege: 'read' }])).created, [false])
  t.equal((await p.listGrants({ resource: 'document', id: null }))[0]?.grantedBy, 'olga', 'grantedBy is the actor when none is given')

  const before = await snapshot(db, schema)
  for (const [bad, index, code] of [
    [{ grantee: user('b'), resource: 'document', id: '2', privilege: 'fly' }, 1, 'FST_DEFAULT_DENY_INVALID_GRANT'],
    [{ grantee: { kind: 'anonymous' }, resource: 'document', id: '2', privilege: 'edit' }, 1, 'FST_DEFAULT_DENY_INELIGIBLE']
  ] as const) {
    const err = await p.grantMany([{ grantee: user('b'), resource: 'document', id: '3', privilege: 'read' }, bad as never]).catch((e: unknown) => e)
    t.match(err, { code, index }, `${code} at index ${index}`)
  }
  await t.rejects(p.grantMany('nope' as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  t.same(await snapshot(db, schema), before, 'nothing was written')
})

t.test('grantMany in one transaction: more resources than the lock table has room for per resource', async (t) => {
  const { app, db } = await build(t)
  await app.ready()
  const rows = Array.from({ length: 10_000 }, (_, i) => ({ grantee: user(`u${i % 7}`), resource: 'document', id: `d${i}`, privilege: 'read' as const }))
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 5000) await app.permissions.grantMany(rows.slice(i, i + 5000), { db: trx })
  })
  t.equal((await app.permissions.scanGrants({ grantee: user('u3'), limit: 10_000 })).grants.length, Math.ceil((10_000 - 3) / 7))
})

t.test('scanGrants: pages in storage order, filters, bad input refused', async (t) => {
  const { app } = await build(t)
  await app.ready()
  const p = app.permissions
  for (const [who, resource, id] of [['a', 'document', '1'], ['b', 'document', '2'], ['a', 'folder', '1'], ['a', 'document', '3']]) {
    await p.grant({ grantee: user(who as string), resource: resource as string, id: id as string, privilege: 'read' })
  }
  const one = await p.scanGrants({ limit: 2 })
  t.same(one.grants.map((g) => `${g.grantee.kind === 'user' ? g.grantee.id : ''}/${g.resource}/${g.id}`), ['a/document/1', 'b/document/2'])
  t.type(one.next, 'string')
  const two = await p.scanGrants({ limit: 2, after: one.next as string })
  t.same(two.grants.map((g) => `${g.resource}/${g.id}`), ['folder/1', 'document/3'])
  const three = await p.scanGrants({ limit: 2, after: two.next as string })
  t.same(three, { grants: [], next: null })
  t.same((await p.scanGrants({ grantee: user('a'), resource: 'document' })).grants.map((g) => g.id), ['1', '3'])
  t.same((await p.scanGrants({ grantee: user('nobody') })), { grants: [], next: null })
  await t.rejects(p.scanGrants({ after: '0' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(p.scanGrants({ limit: 0 }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(p.scanGrants({ grantee: { kind: 'robot' } as never }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
})
