// A grant-API write is bounded like a check: while the database stalls (a
// locked table, a concurrent writer holding the resource, a connection held
// by someone else), the write answers 503 within writeTimeout, and nothing it
// tried to write is ever committed, not even after the stall ends.
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { sql, type Kysely } from 'kysely'
import { build, usingPostgres } from '../helper.js'
import { lockKey } from '../../lib/store/scope.js'

const WRITE_TIMEOUT = 400
const STALL = 5 * WRITE_TIMEOUT

const UNAVAILABLE = {
  statusCode: 503, code: 'FST_DEFAULT_DENY_UNAVAILABLE', error: 'Service Unavailable', message: 'Authorization is temporarily unavailable'
}

/**
 * Holds something the write needs for STALL ms: on PostgreSQL a lock taken by
 * another session (`how`), on PGlite its only connection.
 */
function stall (db: Kysely<any>, schema: string, how: 'table' | 'resource') {
  let over = false
  let taken!: () => void
  const held = new Promise<void>((resolve) => { taken = resolve })
  const done = db.transaction().execute(async (trx) => {
    if (usingPostgres) {
      await (how === 'table'
        ? sql`lock table ${sql.id(schema, 'default_deny_grant')} in access exclusive mode`
        : sql`select pg_advisory_xact_lock(hashtextextended(${lockKey(schema, 'resource', 'document', 'd1')}, 1))`).execute(trx)
    }
    taken()
    await sleep(STALL)
    over = true
  })
  return { held, done, isOver: () => over }
}

async function counts (db: Kysely<any>, schema: string) {
  const scoped = db.withSchema(schema)
  const grants = await scoped.selectFrom('default_deny_grant').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  const audit = await scoped.selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n'))
    .where('action', '!=', 'owner').executeTakeFirstOrThrow()
  return { grants: grants.n, audit: audit.n }
}

async function setup (t: Test) {
  const built = await build(t, { writeTimeout: WRITE_TIMEOUT })
  await built.app.ready()
  await built.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  return built
}

const kinds: Array<'table' | 'resource'> = usingPostgres ? ['table', 'resource'] : ['table']
for (const how of kinds) {
  const what = usingPostgres ? (how === 'table' ? 'a locked grant table' : 'a writer holding the resource') : 'a connection held by the host'
  t.test(`HTTP: ${what} → 503 before the stall ends, nothing written ever`, async (t) => {
    const { app, as, db, schema } = await setup(t)
    const s = stall(db, schema, how)
    await s.held
    const started = Date.now()
    const res = await app.inject({
      method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'),
      payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read', reason: 'during a stall' }
    })
    const elapsed = Date.now() - started
    t.equal(res.statusCode, 503)
    t.same(res.json(), UNAVAILABLE, 'generic body')
    t.notOk(s.isOver(), `answered while the stall still held (after ${elapsed} ms)`)
    await s.done
    await sleep(200)
    t.same(await counts(db, schema), { grants: 0, audit: 0 }, 'no grant and no audit entry, even after the stall')
    const again = await app.inject({
      method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'),
      payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
    })
    t.equal(again.statusCode, 201, 'the same write succeeds once the database is free')
    t.same(await counts(db, schema), { grants: 1, audit: 1 })
  })
}

t.test('service API: a stalled write rejects with FST_DEFAULT_DENY_UNAVAILABLE and writes nothing', async (t) => {
  const { app, db, schema } = await setup(t)
  const s = stall(db, schema, 'table')
  await s.held
  await t.rejects(
    app.permissions.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read' }),
    { code: 'FST_DEFAULT_DENY_UNAVAILABLE' }
  )
  t.notOk(s.isOver(), 'rejected while the stall still held')
  await s.done
  await sleep(200)
  t.same(await counts(db, schema), { grants: 0, audit: 0 })
})

t.test('on PostgreSQL the server gives up too: nothing of the write is left waiting', { skip: usingPostgres ? false : 'PGlite has one connection and no lock waits' }, async (t) => {
  const { app, as, db, schema } = await setup(t)
  const s = stall(db, schema, 'table')
  await s.held
  const res = await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'),
    payload: { grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }
  })
  t.equal(res.statusCode, 503)
  // lock_timeout and statement_timeout were set to the time left: by now the
  // server has cancelled the write's statement and rolled it back.
  await sleep(300)
  const waiting = await sql<{ n: number }>`
    select count(*)::int as n from pg_locks l
    where not l.granted and l.relation = ${`${schema}.default_deny_grant`}::regclass`.execute(db)
  t.equal(waiting.rows[0]?.n, 0, 'no session waits on the grant table any more')
  t.notOk(s.isOver())
  await s.done
})
