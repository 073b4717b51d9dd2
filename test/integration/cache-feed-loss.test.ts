// The decision cache lives on its change feed: when the LISTEN connection is
// lost, nothing cached is served and nothing is stored until it listens
// again, so a change made meanwhile (whose notification nobody heard) is
// never answered wrongly. PostgreSQL only: the embedded feed is in process.
import t, { type Test } from 'tap'
import { sql } from 'kysely'
import { build, usingPostgres } from '../helper.js'
import { databaseProxy, eventually } from '../cache-helper.js'

const skip = !usingPostgres && 'needs PostgreSQL: the embedded database has no connection to lose'
const alice = { kind: 'user', id: 'alice' } as const

async function app (t: Test, listenConnectionString: string) {
  const built = await build(t, { cache: { listenConnectionString, heartbeat: 500 } })
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await built.app.ready()
  const get = async (url: string) => (await built.app.inject({ url, headers: built.as('alice') })).statusCode
  const stats = () => built.app.permissions.cacheStats() as NonNullable<ReturnType<typeof built.app.permissions.cacheStats>>
  const heard = stats().invalidations
  await built.app.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  await eventually(() => stats().invalidations >= heard + 2)
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/1'), 200)
  return { ...built, get, stats }
}

t.test('pg_terminate_backend on the LISTEN connection: dropped at once, correct meanwhile, listening again', { skip }, async (t) => {
  const { db, schema, get, stats } = await app(t, process.env.DATABASE_URL as string)
  const hits = stats().hits
  const killed = await sql<{ n: number }>`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
    where application_name = ${`fastify-default-deny cache ${schema}`.slice(0, 63)}`.execute(db)
  t.equal(killed.rows[0]?.n, 1, 'its one connection, found by the schema in its name')
  await eventually(() => !stats().on, 2000)
  t.equal(stats().entries, 0, 'everything dropped')
  await sql`delete from ${sql.id(schema, 'default_deny_grant')} where resource_id = '1'`.execute(db)
  t.equal(await get('/d/1'), 403, 'the change nobody heard is answered right')
  await eventually(() => stats().on, 5000)
  t.equal(await get('/d/1'), 403)
  t.equal(await get('/d/1'), 403)
  t.ok(stats().hits > hits, 'caching again once listening')
  const heard = stats().invalidations
  await sql`insert into ${sql.id(schema, 'default_deny_grant')} (principal_kind, principal_id, resource_type, resource_id, privilege) values ('user', 'alice', 'document', '1', 'read')`.execute(db)
  await eventually(() => stats().invalidations > heard)
  t.equal(await get('/d/1'), 200, 'and hearing changes again')
})

t.test('a feed that cannot reconnect keeps the cache off; every answer comes from the database', { skip }, async (t) => {
  const { proxy, through } = await databaseProxy(t)
  const { db, schema, get, stats } = await app(t, through)
  // New connections stall, the open one is reset: the feed is down and stays down.
  proxy.pause()
  t.equal(proxy.reset(), 1, 'the LISTEN connection, the only one through the proxy')
  await eventually(() => !stats().on, 2000)
  await sql`delete from ${sql.id(schema, 'default_deny_grant')} where resource_id = '1'`.execute(db)
  const stores = stats().stores
  for (let i = 0; i < 3; i++) t.equal(await get('/d/1'), 403)
  t.equal(stats().on, false)
  t.equal(stats().stores, stores, 'nothing stored while off')
  proxy.resume()
  await eventually(() => stats().on, 10_000)
  t.equal(await get('/d/1'), 403)
  t.equal(await get('/d/1'), 403)
  t.equal(stats().stores, stores + 1)
})

t.test('a stalled LISTEN connection is found by the heartbeat and the cache goes off', { skip }, async (t) => {
  const { proxy, through } = await databaseProxy(t)
  const { stats } = await app(t, through)
  proxy.pause()
  await eventually(() => !stats().on, 3000)
  t.pass('off within the heartbeat and its timeout')
  proxy.resume()
  await eventually(() => stats().on, 10_000)
  t.pass('on again once the network is')
})
