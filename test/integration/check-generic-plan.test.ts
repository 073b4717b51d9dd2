// The route check's prepared statements run with a generic plan once warmed
// up: planned anew on every call (a custom plan), the check cost several
// times its execution (PGlite chose custom plans for every statement; on
// PostgreSQL an `unnest` of the token's groups did the same). Both backends.
import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import { sql, type Kysely } from 'kysely'
import defaultDeny from '../../lib/index.js'
import { userPrincipal } from '../../lib/decision/principal.js'
import { createPGliteKysely } from '../../lib/store/pglite.js'
import { postgresKysely } from '../../lib/store/postgres.js'
import { SECRET, testDatabase, usingPostgres } from '../helper.js'

t.test('check, checkMany and listIds keep a generic plan, and the session setting is left as it was', async (t) => {
  const { schema } = await testDatabase(t)
  // One session (one pg connection, or PGlite's one), so the statements listed are those the checks ran on.
  // On PostgreSQL, a pool set up as the plugin sets up the one it owns (`connectionString`).
  const db: Kysely<any> = usingPostgres ? postgresKysely(process.env.DATABASE_URL as string, { max: 1, genericPlans: true }) : await createPGliteKysely()
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close(); await db.destroy() })
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema, resources: ['document'] })
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd1', privilege: 'read' })
  await app.permissions.addMember({ group: 'staff', member: { kind: 'user', id: 'alice' } })
  const alice = userPrincipal('alice', ['g1', 'g2'])
  for (let i = 0; i < 30; i++) {
    t.equal(await app.permissions.check(alice, { resource: 'document', id: `d${i % 2 + 1}`, privilege: 'read' }), i % 2 === 0)
    await app.permissions.checkMany(alice, { resource: 'document', privilege: 'read', ids: ['d1', 'd2'] })
    await app.permissions.listIds(alice, { resource: 'document', privilege: 'read' })
  }
  const { rows } = await sql<{ statement: string, generic_plans: number, custom_plans: number }>`
    select statement, generic_plans::int as generic_plans, custom_plans::int as custom_plans
    from pg_prepared_statements where statement like '/* fastify-default-deny: prepared */%'`.execute(db)
  t.equal(rows.length, 3, 'check, checkMany and listIds')
  for (const row of rows) {
    t.ok(row.generic_plans >= 25, `generic plans: ${row.generic_plans} (custom: ${row.custom_plans}) for ${row.statement.slice(37, 90).replace(/\s+/g, ' ')}`)
  }
  if (!usingPostgres) {
    const { rows: [setting] } = await sql<{ mode: string }>`select current_setting('plan_cache_mode') as mode`.execute(db)
    t.equal(setting?.mode, 'auto', "the host's own statements on PGlite are planned as PostgreSQL chooses")
  }
})

t.test('a pool of the host keeps PostgreSQL\'s own choice unless asked', { skip: usingPostgres ? false : 'PostgreSQL only' }, async (t) => {
  for (const [genericPlans, mode] of [[undefined, 'auto'], [true, 'force_generic_plan']] as const) {
    const db = postgresKysely(process.env.DATABASE_URL as string, { max: 1, genericPlans })
    const { rows: [setting] } = await sql<{ mode: string }>`select current_setting('plan_cache_mode') as mode`.execute(db)
    await db.destroy()
    t.equal(setting?.mode, mode, `genericPlans: ${String(genericPlans)}`)
  }
})
