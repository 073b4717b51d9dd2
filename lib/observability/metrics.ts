// The plugin's metrics: counted in process on every decision and change (a
// few map lookups), offered as a plain snapshot (`app.permissions.metrics()`)
// and, when the host passes a prom-client registry, as prom-client metrics
// on it. The gauges (cache, LISTEN, standbys, health) are read from their
// owners when scraped, never kept up to date on the request path. Every
// label is bounded by the configuration: route patterns, declared resource
// types, privileges, fixed outcome and reason words, standby names.
import type { CacheStats, MetricsSnapshot, ReplicaStats } from '../../fastify-plugin.js'
import type { MetricsRegistry } from '../options/observability.js'
import { codes } from '../errors.js'
import type { AnsweredBy, Outcome, Reason } from './reasons.js'

/** The latency buckets, in seconds: a cache hit is microseconds, a check a millisecond or so, a stalled one the checkTimeout. */
export const LATENCY_BUCKETS = Object.freeze([0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])

/** What the scraped gauges are read from, each `null` when its feature is off. */
export interface MetricSources {
  cache: () => CacheStats | null
  feed: () => { listening: boolean, reconnections: number, lag: number | null } | null
  standbys: () => ReplicaStats[] | null
  health: () => { database: boolean, listen: boolean | null, standbys: boolean | null } | null
}

interface Child { inc: (value?: number) => void }
interface HistogramChild { observe: (value: number) => void }
interface DecisionSeries { route: string, resource: string, privilege: string, outcome: Outcome, reason: Reason, count: number, child: Child | null }
interface ChangeSeries { action: string, outcome: 'ok' | 'error', count: number, child: Child | null }
interface Latency { count: number, sum: number, buckets: number[], child: HistogramChild | null }

type PromClient = typeof import('prom-client')
interface Labelled<C> { labels: (...values: string[]) => C }
interface PromMetrics {
  decisions: Labelled<Child>
  latency: Labelled<HistogramChild>
  changes: Labelled<Child>
  audit: Child
  names: string[]
}

const ANSWERED_BY: readonly AnsweredBy[] = ['cache', 'database', 'none']

export class Metrics {
  readonly #decisions = new Map<string, DecisionSeries>()
  readonly #changes = new Map<string, ChangeSeries>()
  readonly #latency: Record<AnsweredBy, Latency>
  readonly #sources: MetricSources
  #auditFailures = 0
  #prom: PromMetrics | null = null

  constructor (sources: MetricSources) {
    this.#sources = sources
    const latency = (): Latency => ({ count: 0, sum: 0, buckets: LATENCY_BUCKETS.map(() => 0), child: null })
    this.#latency = { cache: latency(), database: latency(), none: latency() }
  }

  /** One decision (or `n` of one call's answers) with how long it took. */
  decision (route: string, resource: string, privilege: string, outcome: Outcome, reason: Reason, answeredBy: AnsweredBy, seconds: number, n = 1): void {
    const key = `${route}\0${resource}\0${privilege}\0${outcome}\0${reason}`
    let series = this.#decisions.get(key)
    if (series === undefined) {
      series = { route, resource, privilege, outcome, reason, count: 0, child: this.#prom?.decisions.labels(route, resource, privilege, outcome, reason) ?? null }
      this.#decisions.set(key, series)
    }
    series.count += n
    series.child?.inc(n)
    const latency = this.#latency[answeredBy]
    latency.count++
    latency.sum += seconds
    const buckets = latency.buckets
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= (LATENCY_BUCKETS[i] as number)) buckets[i] = (buckets[i] as number) + 1
    latency.child?.observe(seconds)
  }

  change (action: string, outcome: 'ok' | 'error'): void {
    const key = `${action}\0${outcome}`
    let series = this.#changes.get(key)
    if (series === undefined) {
      series = { action, outcome, count: 0, child: this.#prom?.changes.labels(action, outcome) ?? null }
      this.#changes.set(key, series)
    }
    series.count++
    series.child?.inc()
  }

  auditFailed (): void {
    this.#auditFailures++
    this.#prom?.audit.inc()
  }

  snapshot (): MetricsSnapshot {
    const latency = (l: Latency) => ({
      count: l.count,
      sum: l.sum,
      buckets: LATENCY_BUCKETS.map((le, i) => ({ le, count: l.buckets[i] as number }))
    })
    return {
      decisions: [...this.#decisions.values()].map(({ child, ...series }) => series),
      latency: { cache: latency(this.#latency.cache), database: latency(this.#latency.database), none: latency(this.#latency.none) },
      changes: [...this.#changes.values()].map(({ child, ...series }) => series),
      auditVerificationFailures: this.#auditFailures,
      cache: this.#sources.cache(),
      listen: this.#sources.feed(),
      standbys: this.#sources.standbys(),
      health: this.#sources.health()
    }
  }

  /**
   * Registers the metrics on the host's registry, under `prefix`; returns
   * what takes them off again (at close: the registry outlives the app).
   */
  register (client: PromClient, registry: MetricsRegistry, prefix: string): () => void {
    const registers = [registry as unknown as import('prom-client').Registry]
    const sources = this.#sources
    const names: string[] = []
    const remove = () => { for (const name of names) (registry as unknown as import('prom-client').Registry).removeSingleMetric(name) }
    const make = <T>(build: () => T, name: string): T => {
      if (registry.getSingleMetric(name) !== undefined) {
        remove()
        throw new codes.FST_DEFAULT_DENY_INVALID_OPTION('observability.registry', `already has a metric named ${name}: give this instance another observability.prefix`)
      }
      const metric = build()
      names.push(name)
      return metric
    }
    const n = (name: string) => prefix + name
    const decisions = make(() => new client.Counter({
      name: n('decisions_total'),
      help: 'Authorization decisions, by route pattern ("(api)": app.permissions), resource type, privilege, outcome and reason',
      labelNames: ['route', 'resource_type', 'privilege', 'outcome', 'reason'],
      registers
    }), n('decisions_total'))
    const latency = make(() => new client.Histogram({
      name: n('decision_duration_seconds'),
      help: 'Time to decide, by what answered: the decision cache, the database, or none needed (superuser, token only, refused before the grants)',
      labelNames: ['answered_by'],
      buckets: [...LATENCY_BUCKETS],
      registers
    }), n('decision_duration_seconds'))
    const changes = make(() => new client.Counter({
      name: n('changes_total'),
      help: 'Changes of grants, owners and memberships, by action and outcome',
      labelNames: ['action', 'outcome'],
      registers
    }), n('changes_total'))
    const audit = make(() => new client.Counter({
      name: n('audit_verification_failures_total'),
      help: 'Audit chain verifications that found a broken link',
      registers
    }), n('audit_verification_failures_total'))
    // Totals kept by their owners: a scrape sets the counter to the owner's figure.
    // A counter can only be increased, so it is reset and increased to the figure; a gauge is set to it.
    const collected = (kind: 'counter' | 'gauge') => (name: string, help: string, read: () => number | null) => make(() => {
      const options = { name: n(name), help, registers }
      return kind === 'counter'
        ? new client.Counter({ ...options, collect () { const value = read(); this.reset(); if (value !== null) this.inc(value) } })
        : new client.Gauge({ ...options, collect () { const value = read(); this.reset(); if (value !== null) this.set(value) } })
    }, n(name))
    const total = collected('counter')
    const gauge = collected('gauge')
    total('cache_hits_total', 'Decision cache hits', () => sources.cache()?.hits ?? null)
    total('cache_misses_total', 'Decision cache misses', () => sources.cache()?.misses ?? null)
    total('cache_evictions_total', 'Decision cache entries evicted for room', () => sources.cache()?.evictions ?? null)
    gauge('cache_entries', 'Decision cache entries', () => sources.cache()?.entries ?? null)
    gauge('cache_bytes', 'Decision cache size, approximate', () => sources.cache()?.bytes ?? null)
    gauge('listen_up', '1 while the decision cache\'s LISTEN connection is up', () => {
      const feed = sources.feed()
      return feed === null ? null : feed.listening ? 1 : 0
    })
    total('listen_reconnections_total', 'Times the LISTEN connection was established again after a loss', () => sources.feed()?.reconnections ?? null)
    gauge('listen_lag_seconds', 'How long ago the LISTEN connection was last proven to have delivered every committed change', () => sources.feed()?.lag ?? null)
    const perStandby = (name: string, help: string, read: (s: { usable: boolean, lag: number | null, reads: number }) => number | null, kind: 'gauge' | 'counter') =>
      make(() => new (kind === 'gauge' ? client.Gauge : client.Counter)({
        name: n(name),
        help,
        labelNames: ['standby'],
        registers,
        collect (this: { reset: () => void, inc: (l: object, v: number) => void, set: (l: object, v: number) => void }) {
          this.reset()
          for (const s of sources.standbys() ?? []) {
            const value = read(s)
            if (value === null) continue
            if (kind === 'gauge') this.set({ standby: s.name }, value)
            else this.inc({ standby: s.name }, value)
          }
        }
      } as never), n(name))
    perStandby('standby_lag_seconds', 'How far behind the primary each standby is known to be', (s) => s.lag === null ? null : s.lag / 1000, 'gauge')
    perStandby('standby_usable', '1 while reads may go to the standby (within replicas.maxLag)', (s) => s.usable ? 1 : 0, 'gauge')
    perStandby('standby_reads_total', 'Reads sent to each standby', (s) => s.reads, 'counter')
    make(() => new client.Gauge({
      name: n('health_up'),
      help: 'The last health check, by part: 1 passed, 0 failed',
      labelNames: ['check'],
      registers,
      collect () {
        this.reset()
        const health = sources.health()
        if (health === null) return
        this.set({ check: 'database' }, health.database ? 1 : 0)
        if (health.listen !== null) this.set({ check: 'listen' }, health.listen ? 1 : 0)
        if (health.standbys !== null) this.set({ check: 'standbys' }, health.standbys ? 1 : 0)
      }
    }), n('health_up'))

    const prom: PromMetrics = { decisions, latency, changes, audit, names }
    for (const series of this.#decisions.values()) series.child = decisions.labels(series.route, series.resource, series.privilege, series.outcome, series.reason)
    for (const series of this.#changes.values()) series.child = changes.labels(series.action, series.outcome)
    for (const answeredBy of ANSWERED_BY) this.#latency[answeredBy].child = latency.labels(answeredBy)
    this.#prom = prom
    return () => {
      this.#prom = null
      remove()
    }
  }
}
