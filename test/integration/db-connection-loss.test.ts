// A PostgreSQL connection that dies under a request (an administrator's
// pg_terminate_backend, a failover, a reset from something on the network)
// must cost at most the requests using it: 503, an error log line, correct
// answers again at once, and never the process. pg-pool only listens for
// errors on idle clients, so a connection lost while checked out has to be
// handled by the plugin itself, which is what these tests exercise.
//
// No process-level error handler is installed here on purpose: if the 'error'
// event escapes, the file must crash, not pass.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import jwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import defaultDeny from '../../lib/index.js'
import { startProxy } from '../fixtures/tcp-proxy.js'
import { logCapture, SECRET, testDatabase, usingPostgres } from '../helper.js'

const skip = usingPostgres ? false : 'a lost connection needs a PostgreSQL server (DATABASE_URL): PGlite runs in-process'

const TOTAL = 400
const CONCURRENCY = 8
// Request numbers at which the connections are broken; spread over the
// stream so that each break finds the other workers mid-request.
const BREAK_AT = [40, 110, 180, 250, 320]
const AFTERWARDS = 20

interface Answer { id: string, status: number, code: unknown }

interface LossApp {
  app: FastifyInstance
  /** A connection of the test's own, never one of the plugin's. */
  admin: Kysely<any>
  applicationName: string
  lines: Array<Record<string, unknown>>
  headers: { authorization: string }
}

/** DATABASE_URL with its own application_name, optionally routed to another host and port. */
function connectionString (applicationName: string, via?: { host: string, port: number }): string {
  const url = new URL(process.env.DATABASE_URL as string)
  url.searchParams.set('application_name', applicationName)
  if (via !== undefined) {
    url.hostname = via.host
    url.port = String(via.port)
  }
  return url.toString()
}

/** Where DATABASE_URL points, for the proxy to forward to. */
function databaseAddress (): { host: string, port: number } {
  const url = new URL(process.env.DATABASE_URL as string)
  return { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(url.port || 5432) }
}

async function lossApp (t: Test, via?: { host: string, port: number }): Promise<LossApp> {
  // Its teardown (drop the schema) is registered first so that it runs after
  // app.close() has ended the plugin's pool.
  const { db: admin, schema } = await testDatabase(t)
  const applicationName = `dd_loss_${process.pid}_${randomBytes(4).toString('hex')}`
  const { lines, logger } = logCapture()
  const app = Fastify({ logger })
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  await app.register(defaultDeny, { connectionString: connectionString(applicationName, via), schema, checkTimeout: 1000 })
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => ({ ok: true }))
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read' })
  return { app, admin, applicationName, lines, headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'alice' })}` } }
}

/**
 * `total` requests, `concurrency` at a time, alternating d1 (granted) and d2
 * (not). `beforeRequest` runs as request number n starts, while the other
 * workers are in flight.
 */
async function requests (
  app: FastifyInstance,
  headers: LossApp['headers'],
  total: number,
  beforeRequest: (n: number) => void = () => {}
): Promise<Answer[]> {
  const answers: Answer[] = []
  let next = 0
  async function worker (): Promise<void> {
    while (next < total) {
      const n = next++
      beforeRequest(n)
      const id = n % 2 === 0 ? 'd1' : 'd2'
      const res = await app.inject({ url: `/documents/${id}`, headers })
      let code: unknown
      try { code = res.json().code } catch { code = res.body }
      answers.push({ id, status: res.statusCode, code })
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return answers
}

function expected (answer: Answer): number {
  return answer.id === 'd1' ? 200 : 403
}

function assertOutcome (t: Test, lossy: LossApp, during: Answer[], after: Answer[]): void {
  const wrong = during.filter((a) => a.status !== expected(a) && !(a.status === 503 && a.code === 'FST_DEFAULT_DENY_UNAVAILABLE'))
  t.same(wrong, [], 'during the breaks every answer is the right one or 503 FST_DEFAULT_DENY_UNAVAILABLE')
  t.equal(during.length, TOTAL, 'every request was answered')
  t.notOk(during.some((a) => a.id === 'd2' && a.status === 200), 'never allowed without a grant')
  t.ok(during.some((a) => a.id === 'd1' && a.status === 200), 'the granted document was served during the stream')

  const unavailable = during.filter((a) => a.status === 503).length
  const lost = lossy.lines.filter((line) => line.level === 50 && String(line.msg).includes('database connection lost'))
  t.ok(unavailable > 0 || lost.length > 0, `the breaks hit connections in use (${unavailable} answered 503)`)
  if (unavailable > 0) t.ok(lost.length > 0, 'an error log line says the database connection was lost')

  t.same(after.filter((a) => a.status !== expected(a)), [], `the next ${AFTERWARDS} requests are answered correctly, none 503`)
}

// The last break has been delivered, but the pool's idle clients only learn
// of it when their sockets are next read; this gives them that turn.
const SETTLE_MS = 100

t.test('pg_terminate_backend on the plugin\'s connections under load', { skip }, async (t) => {
  const lossy = await lossApp(t)
  const { app, admin, applicationName, headers } = lossy

  let terminated = 0
  const terminate = async (): Promise<void> => {
    // The timeout makes pg_terminate_backend wait until each backend has exited.
    const { rows } = await sql<{ done: boolean }>`
      select pg_terminate_backend(pid, 2000) as done from pg_stat_activity
      where application_name = ${applicationName}`.execute(admin)
    terminated += rows.filter((row) => row.done).length
  }

  const breaks: Array<Promise<void>> = []
  const during = await requests(app, headers, TOTAL, (n) => {
    if (BREAK_AT.includes(n)) breaks.push(terminate())
  })
  await Promise.all(breaks)
  t.ok(terminated > 0, `${terminated} backends terminated`)
  await sleep(SETTLE_MS)
  const after = await requests(app, headers, AFTERWARDS)
  assertOutcome(t, lossy, during, after)
})

t.test('TCP resets of the plugin\'s connections under load', { skip }, async (t) => {
  const proxy = await startProxy(databaseAddress())
  // Registered before the app's teardown, so the pool ends while the proxy
  // still forwards.
  t.teardown(() => proxy.close())
  const lossy = await lossApp(t, { host: '127.0.0.1', port: proxy.port })
  const { app, headers } = lossy

  let reset = 0
  const during = await requests(app, headers, TOTAL, (n) => {
    if (BREAK_AT.includes(n)) reset += proxy.reset()
  })
  t.ok(reset > 0, `${reset} connections reset`)
  await sleep(SETTLE_MS)
  const after = await requests(app, headers, AFTERWARDS)
  assertOutcome(t, lossy, during, after)
})
