// The fill race: a check whose query was answered before a revoke, but whose
// answer reaches the app after the revoke's notification, must not be kept.
// The answer is held back by a proxy on the pool's connection while the
// cache listens directly. PostgreSQL only: the embedded database has one
// connection, so no answer can be held while another session commits.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import { sql } from 'kysely'
import defaultDeny from '../../lib/index.js'
import { postgresKysely } from '../../lib/store/postgres.js'
import { SECRET, testDatabase, usingPostgres } from '../helper.js'
import { databaseProxy, eventually } from '../cache-helper.js'

t.test('an answer read before a revoke and delivered after its notification is not cached', { skip: !usingPostgres && 'needs PostgreSQL: two sessions at once' }, async (t) => {
  const { db: direct, schema } = await testDatabase(t)
  const { proxy, direct: url, through } = await databaseProxy(t)
  const db = postgresKysely(through, { max: 1 })

  const app = Fastify()
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema, cache: { listenConnectionString: url } })
  let ran = 0
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  t.teardown(async () => { await app.close(); await db.destroy() })
  await app.ready()
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'alice' })}` }
  const stats = () => app.permissions.cacheStats() as NonNullable<ReturnType<typeof app.permissions.cacheStats>>

  let heard = stats().invalidations
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })
  await eventually(() => stats().invalidations >= heard + 2)
  // The pool's one connection is open and the check's statement prepared.
  t.equal((await app.inject({ url: '/d/2', headers })).statusCode, 403)

  const sent = (await sql<{ at: Date }>`select clock_timestamp() as at`.execute(direct)).rows[0]?.at as Date
  proxy.holdReplies()
  const inFlight = app.inject({ url: '/d/1', headers })
  // The check has run once its session (the only one naming this schema) is idle again: its answer waits in the proxy.
  await eventually(async () => {
    const rows = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where state = 'idle' and query_start > ${sent} and query like ${`%${schema}%default_deny_grant%`}`.execute(direct)
    return (rows.rows[0]?.n ?? 0) > 0
  })
  heard = stats().invalidations
  await sql`delete from ${sql.id(schema, 'default_deny_grant')} where resource_id = '1'`.execute(direct)
  await eventually(() => stats().invalidations > heard)
  const refused = stats().refused
  proxy.releaseReplies()
  t.equal((await inFlight).statusCode, 200, 'the request that began before the revoke is answered as of then')
  t.equal(stats().refused, refused + 1, 'its answer was not kept')
  const handled = ran
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 403, 'the next request asks the database')
  t.equal(ran, handled, 'handler not run')
})
