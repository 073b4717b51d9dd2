// Observability against the real libraries: the OpenTelemetry SDK with an
// in-memory exporter under @fastify/otel, a prom-client registry scraped
// through the host's /metrics (fastify-metrics), node:diagnostics_channel,
// and the health check against a database that stops answering and a
// LISTEN connection that is killed.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import jwt from '@fastify/jwt'
import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import metricsPlugin from 'fastify-metrics'
import { sql } from 'kysely'
import promClient from 'prom-client'
import defaultDeny from '../../lib/index.js'
import { loadTracingApi, tracerOf } from '../../lib/observability/tracing.js'
import { createPGliteKysely } from '../../lib/store/pglite.js'
import { cacheOn, databaseProxy, eventually } from '../cache-helper.js'
import { build, SECRET, TEST_RESOURCES, testDatabase, usingPostgres } from '../helper.js'
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'

const run = promisify(execFile)
const alice = { kind: 'user', id: 'alice' } as const
const readDoc = { config: { permission: { resource: 'document', privilege: 'read' } } } as const

async function app (t: Test, options: Partial<FastifyDefaultDenyOptions> = {}, after?: (app: FastifyInstance) => Promise<void>) {
  const built = await build(t, options)
  built.app.get('/d/:id', readDoc, async () => 'ok')
  if (after !== undefined) await after(built.app)
  await built.app.ready()
  const invalidations = () => built.app.permissions.cacheStats()?.invalidations ?? 0
  const before = invalidations()
  await built.app.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  // With the cache, the grant is applied here at once and heard again from the
  // database; an answer whose query runs across the echo is not kept, so the
  // first request's answer would not be there for the second (a miss counted
  // where the test expects a hit: seen on PostgreSQL).
  if (built.app.permissions.cacheStats() !== null) await eventually(() => invalidations() >= before + 2)
  // null: a token that does not verify.
  const get = async (url: string, who: string | null = 'alice') =>
    (await built.app.inject({ url, headers: who === null ? { authorization: 'Bearer not-a-token' } : built.as(who) })).statusCode
  return { ...built, get }
}

t.test('no SDK registered: no tracer, so no span is ever made', async (t) => {
  const api = await loadTracingApi()
  t.ok(api !== null, 'the API is installed here')
  t.equal(tracerOf(api as NonNullable<typeof api>), null, 'the global provider is the no-op one')
})

t.test('without the optional peers installed: loads, decides and counts; a registry is refused', async (t) => {
  const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', join(fixtures, 'block-peers.mjs'), join(fixtures, 'no-peers-app.ts')], { encoding: 'utf8' })
  const result = JSON.parse(stdout.trim().split('\n').pop() as string)
  t.equal(result.apiMissing, true, '@opentelemetry/api does not resolve there')
  t.equal(result.status, 403)
  t.match(result.decisions, [{ route: '/d/:id', outcome: 'deny', reason: 'no_grant', count: 1 }])
  t.match(result.refusal, { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /observability\.registry' needs prom-client installed/ })
})

t.test('traces: a span per decision and per change, children of @fastify/otel\'s request span, ids only when asked', async (t) => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  trace.setGlobalTracerProvider(provider)
  t.teardown(async () => {
    trace.disable()
    context.disable()
    await provider.shutdown()
  })
  const instrumentation = new FastifyOtelInstrumentation()
  instrumentation.setTracerProvider(provider)

  const parentOf = (span: ReadableSpan) => (span as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId
  const spans = () => exporter.getFinishedSpans()
  const checks = () => spans().filter((s) => s.name === 'fastify-default-deny.check')

  for (const traceIds of [false, true]) {
    exporter.reset()
    // @fastify/otel first, as it asks: its request span starts before the plugin's hook runs.
    const { db, schema } = await testDatabase(t)
    const fastify = Fastify()
    await fastify.register(instrumentation.plugin())
    await fastify.register(jwt, { secret: SECRET })
    await fastify.register(defaultDeny, { db, schema, resources: TEST_RESOURCES, observability: { traceIds } })
    fastify.get('/d/:id', readDoc, async () => 'ok')
    await fastify.ready()
    await fastify.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
    const token = fastify.jwt.sign({ sub: 'alice' })
    const get = async (url: string) => (await fastify.inject({ url, headers: { authorization: `Bearer ${token}` } })).statusCode
    const writes = spans().filter((s) => s.name === 'fastify-default-deny.write')
    t.equal(writes.length, 1, 'the grant is one write span')
    t.match(writes[0]?.attributes, { 'default_deny.action': 'grant', 'default_deny.outcome': 'ok', 'default_deny.resource_type': 'document' })
    t.equal(typeof writes[0]?.attributes['default_deny.revision'], 'string', 'with the revision it committed at')

    t.equal(await get('/d/1'), 200)
    t.equal(await get('/d/2'), 403)
    const [allowed, denied] = checks()
    t.equal(checks().length, 2, 'one span per decision')
    t.match(allowed?.attributes, {
      'default_deny.route': '/d/:id',
      'default_deny.resource_type': 'document',
      'default_deny.privilege': 'read',
      'default_deny.decision': 'allow',
      'default_deny.reason': 'grant',
      'default_deny.answered_by': 'database',
      'default_deny.cache_hit': false
    })
    t.equal(typeof allowed?.attributes['default_deny.db_ms'], 'number', 'the database time')
    t.match(denied?.attributes, { 'default_deny.decision': 'deny', 'default_deny.reason': 'no_grant' })
    for (const span of [allowed, denied] as ReadableSpan[]) {
      // Up the parents to the trace's root: @fastify/otel's request span.
      const byId = new Map(spans().map((s) => [s.spanContext().spanId, s]))
      let at: ReadableSpan | undefined = span
      const chain: string[] = []
      while (at !== undefined && parentOf(at) !== undefined) {
        at = byId.get(parentOf(at) as string)
        chain.push(at?.name ?? '?')
      }
      t.equal(at?.name, 'request', `the check is a descendant of the request span (${chain.join(' < ')})`)
      t.equal(at?.spanContext().traceId, span.spanContext().traceId)
      t.equal(at?.instrumentationScope.name, '@fastify/otel')
    }
    const ids = ['enduser.id', 'default_deny.resource_id']
    if (traceIds) {
      t.match(allowed?.attributes, { 'enduser.id': 'alice', 'default_deny.resource_id': '1' }, 'ids when the host opts in')
      t.match(writes[0]?.attributes, { 'default_deny.resource_id': ['1'] })
    } else {
      for (const s of spans()) for (const key of ids) t.notOk(key in s.attributes, `no ${key} on ${s.name} by default`)
    }
    for (const s of spans()) {
      t.notOk(JSON.stringify(s.attributes).includes('Bearer'), 'never a token')
    }
    await fastify.close()
  }
})

t.test('metrics: a prom-client registry scraped through the host\'s /metrics (fastify-metrics), and the same in metrics()', async (t) => {
  const registry = new promClient.Registry()
  const { get, app: fastify, as, db, schema } = await app(t, { ...cacheOn(), observability: { registry } }, async (fastify) => {
    // Its CommonJS default export is the plugin at run time; its types describe the module.
    await fastify.register(metricsPlugin as unknown as FastifyPluginAsync<Record<string, unknown>>, {
      promClient: { ...promClient, register: registry } as never,
      defaultMetrics: { enabled: false },
      routeMetrics: { enabled: false },
      endpoint: { url: '/metrics', config: { permission: 'public' } } as never
    })
  })
  // A known sequence: two allowed (a miss, then a hit), one without a grant, one with a bad token, a revoke, an API check.
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/2'), 403)
  t.equal(await get('/d/1', null), 401)
  await fastify.permissions.revoke({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await fastify.permissions.check({ kind: 'user', id: 'alice', groups: [], superuser: false, claims: {} }, { resource: 'document', id: '1', privilege: 'read' }), false)

  const scrape = await fastify.inject({ url: '/metrics', headers: as('alice') })
  t.equal(scrape.statusCode, 200)
  const text = scrape.body
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  }
  const decision = (outcome: string, reason: string, route = '/d/:id') =>
    `fastify_default_deny_decisions_total{route="${route}",resource_type="document",privilege="read",outcome="${outcome}",reason="${reason}"}`
  t.equal(value(decision('allow', 'grant')), 2)
  t.equal(value(decision('deny', 'no_grant')), 1)
  t.equal(value(decision('deny', 'unauthenticated')), 1, 'a token that does not verify is a refusal before the grants')
  t.equal(value(decision('deny', 'no_grant', '(api)')), 1, 'app.permissions.check counts under the (api) route')
  t.equal(value('fastify_default_deny_decision_duration_seconds_count{answered_by="cache"}'), 1, 'the hit, apart')
  t.equal(value('fastify_default_deny_decision_duration_seconds_count{answered_by="database"}'), 3)
  t.equal(value('fastify_default_deny_changes_total{action="grant",outcome="ok"}'), 1)
  t.equal(value('fastify_default_deny_changes_total{action="revoke",outcome="ok"}'), 1)
  t.equal(value('fastify_default_deny_cache_hits_total'), 1)
  t.ok((value('fastify_default_deny_cache_misses_total') ?? 0) >= 2)
  t.equal(value('fastify_default_deny_listen_up'), 1)
  t.equal(value('fastify_default_deny_listen_reconnections_total'), 0)
  t.ok((value('fastify_default_deny_listen_lag_seconds') ?? -1) >= 0)
  t.notOk(/resource_id|alice|\/d\/1/.test(text), 'no id or raw URL in any label')

  const snapshot = fastify.permissions.metrics()
  t.same(snapshot.decisions.find((d) => d.route === '/d/:id' && d.outcome === 'allow'),
    { route: '/d/:id', resource: 'document', privilege: 'read', outcome: 'allow', reason: 'grant', count: 2 })
  t.equal(snapshot.latency.cache.count, 1)
  t.same(snapshot.changes, [{ action: 'grant', outcome: 'ok', count: 1 }, { action: 'revoke', outcome: 'ok', count: 1 }])
  t.equal(snapshot.cache?.hits, 1)

  // Audit verification failures: break the chain, verify.
  await sql`update ${sql.id(schema, 'default_deny_audit')} set after = '[]'`.execute(db)
  t.equal((await fastify.permissions.verifyAudit()).ok, false)
  t.equal(fastify.permissions.metrics().auditVerificationFailures, 1)
  t.match(await registry.metrics(), /^fastify_default_deny_audit_verification_failures_total 1$/m)

  // The dashboard in docs/ asks only for metrics that exist.
  const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')
  const registered = new Set((await registry.getMetricsAsJSON()).map((m) => m.name))
  const asked = new Set([...dashboard.matchAll(/fastify_default_deny_\w+/g)].map(([name]) => name.replace(/_bucket$/, '')))
  t.ok(asked.size >= 10)
  for (const name of asked) t.ok(registered.has(name), `dashboard metric ${name} is registered`)

  await fastify.close()
  t.equal(registry.getSingleMetric('fastify_default_deny_decisions_total'), undefined, 'taken off the registry at close')
})

t.test('a second instance on the same registry needs another prefix', async (t) => {
  const registry = new promClient.Registry()
  await app(t, { observability: { registry } })
  await t.rejects(app(t, { observability: { registry } }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /observability\.registry.*another observability\.prefix/ })
  await app(t, { observability: { registry, prefix: 'second_' } })
  t.ok(registry.getSingleMetric('second_decisions_total'))
})

t.test('option errors name the field', async (t) => {
  for (const [observability, field] of [
    [{ registry: {} }, 'observability.registry'],
    [{ prefix: '1x' }, 'observability.prefix'],
    [{ traces: 'yes' }, 'observability.traces'],
    [{ healthTimeout: 0 }, 'observability.healthTimeout'],
    [{ other: 1 }, 'observability']
  ] as const) {
    await t.rejects(build(t, { observability } as never), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: new RegExp(`'${field.replace('.', '\\.')}'`) })
  }
})

t.test('diagnostics channel: each decision, only while subscribed', async (t) => {
  const { get, app: fastify } = await app(t)
  const seen: any[] = []
  const listener = (message: unknown) => { seen.push(message) }
  subscribe('fastify-default-deny.decision', listener)
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/x%00'), 404)
  unsubscribe('fastify-default-deny.decision', listener)
  t.equal(await get('/d/2'), 403)
  t.equal(seen.length, 2, 'nothing published once unsubscribed')
  t.match(seen[0], { route: '/d/:id', resource: 'document', privilege: 'read', outcome: 'allow', reason: 'grant', answeredBy: 'database', standby: null })
  t.equal(typeof seen[0].durationMs, 'number')
  t.equal(seen[0].request.routeOptions.url, '/d/:id', 'with the request, as Fastify\'s own channels carry it')
  t.match(seen[1], { outcome: 'deny', reason: 'not_found' })
  t.equal(fastify.permissions.metrics().decisions.reduce((n, d) => n + d.count, 0), 3, 'counted either way')
})

/** @fastify/under-pressure's status route, asking the plugin's health check, as the README shows. */
async function statusRoute (fastify: FastifyInstance): Promise<void> {
  await fastify.register(underPressure, {
    healthCheck: async () => (await fastify.permissions.health()).status !== 'down',
    exposeStatusRoute: { routeOpts: { config: { permission: 'public' } } }
  })
}

t.test('health: ok while the database answers; down once it stops', async (t) => {
  if (usingPostgres) {
    const { proxy, through } = await databaseProxy(t)
    const fastify = Fastify()
    await fastify.register(jwt, { secret: SECRET })
    const schema = `dd_obs_health_${process.pid}`
    await fastify.register(defaultDeny, { connectionString: through, schema, resources: TEST_RESOURCES, observability: { healthTimeout: 300 } })
    await statusRoute(fastify)
    t.teardown(async () => {
      await fastify.close().catch(() => {})
      const { postgresKysely } = await import('../../lib/store/postgres.js')
      const admin = postgresKysely(process.env.DATABASE_URL as string, { max: 1 })
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin)
      await admin.destroy()
    })
    await fastify.ready()
    t.match(await fastify.permissions.health(), { ok: true, status: 'ok', database: { ok: true }, listen: null, standbys: null })
    t.equal((await fastify.inject('/status')).statusCode, 200, '@fastify/under-pressure\'s status route, as the README sets it up')
    proxy.pause()
    proxy.reset()
    const report = await fastify.permissions.health()
    t.match(report, { ok: false, status: 'down', database: { ok: false } })
    t.ok(report.database.ms < 2000, 'within the timeout')
    t.same(fastify.permissions.metrics().health, { database: false, listen: null, standbys: null })
    t.equal((await fastify.inject('/status')).statusCode, 503)
    proxy.resume()
    return
  }
  const db = await createPGliteKysely()
  const fastify = Fastify()
  await fastify.register(jwt, { secret: SECRET })
  await fastify.register(defaultDeny, { db, schema: 'dd_obs_health', resources: TEST_RESOURCES, cache: true, observability: { healthTimeout: 300 } })
  await statusRoute(fastify)
  await fastify.ready()
  t.match(await fastify.permissions.health(), { ok: true, status: 'ok', database: { ok: true }, listen: { ok: true } })
  t.equal((await fastify.inject('/status')).statusCode, 200, '@fastify/under-pressure\'s status route, as the README sets it up')
  await db.destroy()
  t.match(await fastify.permissions.health(), { ok: false, status: 'down', database: { ok: false, error: 'unreachable' } })
  t.equal((await fastify.inject('/status')).statusCode, 503)
  await fastify.close().catch(() => {})
})

t.test('health and metrics: a killed LISTEN connection degrades, then recovers', { skip: !usingPostgres && 'needs PostgreSQL: the embedded feed is in process' }, async (t) => {
  const { app: fastify, db, schema } = await app(t, cacheOn({ heartbeat: 500 }))
  t.match(await fastify.permissions.health(), { status: 'ok', listen: { ok: true } })
  const killed = await sql<{ n: number }>`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
    where application_name = ${`fastify-default-deny cache ${schema}`.slice(0, 63)}`.execute(db)
  t.equal(killed.rows[0]?.n, 1)
  await eventually(() => fastify.permissions.metrics().listen?.listening === false, 2000)
  t.match(await fastify.permissions.health(), { ok: false, status: 'degraded', database: { ok: true }, listen: { ok: false } })
  await eventually(() => fastify.permissions.metrics().listen?.listening === true, 5000)
  t.match(fastify.permissions.metrics().listen, { listening: true, reconnections: 1 })
  t.match(await fastify.permissions.health(), { ok: true, status: 'ok' })
})
