// A check that times out must not keep running: on PostgreSQL the server
// cancels it (the plugin's sessions carry statement_timeout), and a check that
// never got a connection before its time ran out sends no query at all. After
// a stall of several times checkTimeout the pool answers at once, instead of
// working through the checks everybody already gave up on.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import jwt from '@fastify/jwt'
import { PGlite } from '@electric-sql/pglite'
import Fastify from 'fastify'
import { Kysely, PostgresDialect, sql } from 'kysely'
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import defaultDeny from '../../lib/index.js'
import { PGlitePool } from '../../lib/store/pglite.js'
import { PREPARED_MARKER } from '../../lib/store/check.js'
import { SECRET, testDatabase, usingPostgres } from '../helper.js'

const CHECK_TIMEOUT = 300
const STALL = 10 * CHECK_TIMEOUT
const ROUNDS = 4
const PER_ROUND = 4

interface Setup {
  request: (id: string) => Promise<number>
  /** Holds the grant table (PostgreSQL) or the only connection (PGlite) for STALL ms. */
  stall: () => { held: Promise<void>, done: Promise<void>, isOver: () => boolean }
  /** Check queries the database received (PGlite) or still runs (PostgreSQL). */
  inFlight: () => Promise<number>
}

/** An app where alice may read document d1 (not d2); returns how to ask for one as alice. */
async function aliceReads (t: Test, database: Partial<FastifyDefaultDenyOptions>): Promise<Setup['request']> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { ...database, checkTimeout: CHECK_TIMEOUT })
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => ({ ok: true }))
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read' })
  const authorization = `Bearer ${app.jwt.sign({ sub: 'alice' })}`
  return async (id) => (await app.inject({ url: `/documents/${id}`, headers: { authorization } })).statusCode
}

async function onPostgres (t: Test): Promise<Setup> {
  const { db: admin, schema } = await testDatabase(t)
  const applicationName = `dd_cancel_${randomBytes(4).toString('hex')}`
  const url = new URL(process.env.DATABASE_URL as string)
  url.searchParams.set('application_name', applicationName)
  // connectionString: the plugin owns this pool and sets its limits.
  return {
    request: await aliceReads(t, { connectionString: url.toString(), schema }),
    stall: () => holdFor(admin, async (trx) => {
      await sql`lock table ${sql.id(schema, 'default_deny_grant')} in access exclusive mode`.execute(trx)
    }),
    inFlight: async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where application_name = ${applicationName} and state = 'active'`.execute(admin)
      return rows[0]?.n ?? 0
    }
  }
}

async function onPGlite (t: Test): Promise<Setup> {
  // A database of this test's own, so that it can count the queries that
  // reach it: the count is the database's view, not the plugin's.
  let checks = 0
  const db = new Kysely<any>({
    dialect: new PostgresDialect({ pool: new PGlitePool(await PGlite.create()) }),
    log: (event) => { if (event.level === 'query' && event.query.sql.startsWith(PREPARED_MARKER)) checks++ }
  })
  t.teardown(() => db.destroy())
  return {
    request: await aliceReads(t, { db }),
    stall: () => holdFor(db, async () => {}),
    inFlight: async () => checks
  }
}

function holdFor (db: Kysely<any>, take: (trx: Kysely<any>) => Promise<void>) {
  let over = false
  let taken!: () => void
  const held = new Promise<void>((resolve) => { taken = resolve })
  const done = db.transaction().execute(async (trx) => {
    await take(trx)
    taken()
    await sleep(STALL)
    over = true
  })
  return { held, done, isOver: () => over }
}

t.test('checks during a long stall fail closed on time, and leave nothing running behind', async (t) => {
  const setup = usingPostgres ? await onPostgres(t) : await onPGlite(t)
  t.equal(await setup.request('d1'), 200, 'allowed before the stall')
  t.equal(await setup.request('d2'), 403, 'denied before the stall')
  const before = await setup.inFlight()

  const stall = setup.stall()
  await stall.held
  const statuses: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    statuses.push(...await Promise.all(Array.from({ length: PER_ROUND }, (_, i) => setup.request(i % 2 === 0 ? 'd1' : 'd2'))))
  }
  t.same(statuses, statuses.map(() => 503), `${statuses.length} checks during the stall: all 503`)
  t.notOk(stall.isOver(), 'all of them answered while the stall still held')

  if (usingPostgres) {
    // The server cancels each check at checkTimeout: none is left waiting on
    // the lock, though the stall goes on.
    let running = await setup.inFlight()
    for (let i = 0; i < 20 && running > 0; i++) {
      await sleep(50)
      running = await setup.inFlight()
    }
    t.equal(running, 0, 'no check of the plugin still runs on the server')
    t.notOk(stall.isOver(), 'checked while the stall still held')
  }
  await stall.done
  const started = Date.now()
  t.equal(await setup.request('d1'), 200, 'allowed again right after the stall')
  t.equal(await setup.request('d2'), 403, 'denied again right after the stall')
  const elapsed = Date.now() - started
  t.ok(elapsed < CHECK_TIMEOUT, `answered without waiting behind abandoned checks (${elapsed} ms)`)
  if (!usingPostgres) {
    // The checks that gave up while waiting for the connection never reached
    // the database: only the two after the stall did.
    t.equal(await setup.inFlight() - before, 2, 'abandoned checks sent no query')
  }
})
