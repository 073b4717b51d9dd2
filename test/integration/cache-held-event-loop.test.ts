// A probe of the decision cache's feed answered in time, but read late
// because the event loop was held (a long synchronous task, a GC pause),
// is not a lost connection: the feed keeps its connection and the cache its
// entries. The answer is on the socket when the loop comes back; a timeout
// timer that fires before the loop reads it must not win. PostgreSQL only:
// the embedded feed is in process.
import t from 'tap'
import { sql } from 'kysely'
import { build, logCapture, usingPostgres } from '../helper.js'
import { databaseProxy, eventually } from '../cache-helper.js'

const skip = !usingPostgres && 'needs PostgreSQL: the embedded database has no connection to probe'
const HEARTBEAT = 1000

t.test('a probe answered while the event loop is held keeps the feed and the entries', { skip }, async (t) => {
  const { proxy, through } = await databaseProxy(t)
  const { lines, logger } = logCapture('warn')
  const built = await build(t, { cache: { listenConnectionString: through, heartbeat: HEARTBEAT } }, { logger })
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await built.app.ready()
  const stats = () => built.app.permissions.cacheStats() as NonNullable<ReturnType<typeof built.app.permissions.cacheStats>>
  await eventually(() => stats().on)
  const name = `fastify-default-deny cache ${built.schema}`.slice(0, 63)
  const backend = async () => (await sql<{ pid: number }>`select pid from pg_stat_activity where application_name = ${name}`.execute(built.db)).rows[0]?.pid
  const pid = await backend()
  t.equal((await built.app.inject({ url: '/d/1', headers: built.as('alice') })).statusCode, 403)
  t.equal(stats().entries, 1)
  // The only traffic on the proxied connection is the feed's: a probe's
  // answer, just written to the feed's socket and not read yet. Hold the
  // loop past the probe's timeout, as a long synchronous task would.
  await proxy.nextReply()
  const until = performance.now() + 1.5 * HEARTBEAT
  while (performance.now() < until);
  await eventually(() => stats().on, 4 * HEARTBEAT)
  t.equal(stats().entries, 1, 'the entry was kept')
  t.equal(await backend(), pid, 'on the same connection')
  t.same(lines.filter((line) => /lost its change feed/.test(String(line.msg))), [], 'no loss was reported')
})
