// The `observability` option: where metrics go (a prom-client registry the
// host passes; without one they are kept for `app.permissions.metrics()`
// only), whether decisions and writes are traced, whether spans may carry
// user and resource ids, and how long the health check waits for the
// database. Tracing still costs nothing unless an OpenTelemetry SDK is
// registered.
import { booleanOption, invalid, positiveInteger, subOptions } from './values.js'

export const DEFAULT_METRICS_PREFIX = 'fastify_default_deny_'
export const DEFAULT_HEALTH_TIMEOUT = 1_000
const KEYS = new Set(['registry', 'prefix', 'traces', 'traceIds', 'healthTimeout'])
const PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,63}$/

/** What prom-client's Registry must offer for metrics to be registered on it. */
export interface MetricsRegistry {
  registerMetric: (metric: never) => void
  getSingleMetric: (name: string) => unknown
}

export interface ObservabilitySettings {
  /** null: metrics are kept in process only. */
  readonly registry: MetricsRegistry | null
  readonly prefix: string
  readonly traces: boolean
  readonly traceIds: boolean
  readonly healthTimeout: number
}

const isRegistry = (value: unknown): value is MetricsRegistry =>
  typeof value === 'object' && value !== null &&
  typeof (value as MetricsRegistry).registerMetric === 'function' && typeof (value as MetricsRegistry).getSingleMetric === 'function'

export function observabilityOption (opts: Record<string, unknown>, checkTimeout: number): ObservabilitySettings {
  const raw = opts.observability ?? {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('observability', 'must be an object')
  const fields = raw as Record<string, unknown>
  const prefixed = subOptions('observability', fields, KEYS)
  const registry = fields.registry
  if (registry !== undefined && !isRegistry(registry)) invalid('observability.registry', 'must be a prom-client Registry')
  const prefix = fields.prefix ?? DEFAULT_METRICS_PREFIX
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) invalid('observability.prefix', `must match ${PREFIX}`)
  return Object.freeze({
    registry: registry ?? null,
    prefix,
    traces: booleanOption(prefixed, 'observability.traces', true),
    traceIds: booleanOption(prefixed, 'observability.traceIds', false),
    healthTimeout: positiveInteger(prefixed, 'observability.healthTimeout', Math.min(checkTimeout, DEFAULT_HEALTH_TIMEOUT), 600_000)
  })
}
