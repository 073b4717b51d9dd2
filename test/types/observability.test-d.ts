// Type tests for the observability option, metrics() and health(), checked
// by `tsc --noEmit`.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import type { Kysely } from 'kysely'
import { Registry } from 'prom-client'
import defaultDeny, { type DecisionReason, type HealthReport, type MetricsSnapshot } from '../../fastify-plugin.js'

declare const db: Kysely<any>
const app = Fastify()
await app.register(jwt, { secret: 'x'.repeat(32) })
await app.register(defaultDeny, { db, observability: { registry: new Registry(), prefix: 'authz_', traces: true, traceIds: false, healthTimeout: 500 } })
await app.register(defaultDeny, { db, observability: {} })
// @ts-expect-error healthTimeout is milliseconds
await app.register(defaultDeny, { db, observability: { healthTimeout: '1s' } })
// @ts-expect-error an unknown key does not compile
await app.register(defaultDeny, { db, observability: { exporter: 'otlp' } })

const snapshot: MetricsSnapshot = app.permissions.metrics()
const reason: DecisionReason | undefined = snapshot.decisions[0]?.reason
const p99Bucket: number | undefined = snapshot.latency.cache.buckets.at(-1)?.le
const report: HealthReport = await app.permissions.health()
const status: 'ok' | 'degraded' | 'down' = report.status
export { p99Bucket, reason, status }
