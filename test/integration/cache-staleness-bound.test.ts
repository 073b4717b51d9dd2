// The decision cache's staleness bound is `heartbeat`, exactly: stall the
// LISTEN connection (no reset, as a dead network path behaves) right after
// the server last answered on it, and the cache must be off within one
// heartbeat, not the two a probe per heartbeat with a heartbeat's timeout
// took. And the listener is named as the README says whatever the URL sets.
// PostgreSQL only: the embedded feed is in process.
import t from 'tap'
import { sql } from 'kysely'
import { build, usingPostgres } from '../helper.js'
import { databaseProxy, eventually } from '../cache-helper.js'

const skip = !usingPostgres && 'needs PostgreSQL: the embedded database has no connection to stall'
const HEARTBEAT = 1000
// Timers fire late on a loaded machine; well under the second heartbeat the old bound allowed.
const SLACK = 400

t.test('a stall right after an answer turns the cache off within one heartbeat', { skip }, async (t) => {
  const { proxy, through } = await databaseProxy(t)
  const built = await build(t, { cache: { listenConnectionString: through, heartbeat: HEARTBEAT } })
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await built.app.ready()
  const stats = () => built.app.permissions.cacheStats() as NonNullable<ReturnType<typeof built.app.permissions.cacheStats>>
  await eventually(() => stats().on)
  for (let round = 0; round < 2; round++) {
    // The only traffic on the proxied connection is the feed's: this is a probe's answer.
    await proxy.nextReply()
    proxy.pause()
    const stalled = performance.now()
    await eventually(() => !stats().on, 4 * HEARTBEAT)
    const off = performance.now() - stalled
    t.ok(off <= HEARTBEAT + SLACK, `off ${Math.round(off)} ms after the stall (bound ${HEARTBEAT} ms)`)
    proxy.resume()
    await eventually(() => stats().on, 10_000)
  }
})

t.test('a busy process stops serving past the bound but keeps its entries and its connection', { skip }, async (t) => {
  const built = await build(t, { cache: { listenConnectionString: process.env.DATABASE_URL, heartbeat: HEARTBEAT } })
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await built.app.ready()
  const stats = () => built.app.permissions.cacheStats() as NonNullable<ReturnType<typeof built.app.permissions.cacheStats>>
  await eventually(() => stats().on)
  const get = async () => (await built.app.inject({ url: '/d/1', headers: built.as('alice') })).statusCode
  t.equal(await get(), 403)
  t.equal(stats().entries, 1)
  const name = `fastify-default-deny cache ${built.schema}`.slice(0, 63)
  const backend = async () => (await sql<{ pid: number }>`select pid from pg_stat_activity where application_name = ${name}`.execute(built.db)).rows[0]?.pid
  const pid = await backend()
  // Nothing can be proven while the event loop is held: past a heartbeat, nothing is served.
  const until = performance.now() + 1.5 * HEARTBEAT
  while (performance.now() < until);
  const misses = stats().misses
  t.equal(await get(), 403)
  t.equal(stats().misses, misses + 1, 'not served from the cache right after')
  await eventually(() => stats().on, 4 * HEARTBEAT)
  t.equal(stats().entries, 1, 'the entry was kept')
  const hits = stats().hits
  t.equal(await get(), 403)
  t.equal(stats().hits, hits + 1, 'and is served again once proven current')
  t.equal(await backend(), pid, 'on the same connection: nothing was lost')
})

t.test("the listener is named 'fastify-default-deny cache <schema>' even when the URL names the application", { skip }, async (t) => {
  const url = new URL(process.env.DATABASE_URL as string)
  url.searchParams.set('application_name', 'someone-else')
  const built = await build(t, { cache: { listenConnectionString: url.toString() } })
  await built.app.ready()
  await eventually(() => built.app.permissions.cacheStats()?.on === true)
  const name = `fastify-default-deny cache ${built.schema}`.slice(0, 63)
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = ${name}`.execute(built.db)
  t.equal(rows[0]?.n, 1)
})

t.test('cache.heartbeat below 100 ms is refused', async (t) => {
  await t.rejects(build(t, { cache: { heartbeat: 50 } }), /cache\.heartbeat/)
})
