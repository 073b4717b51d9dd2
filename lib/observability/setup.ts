// The observability as the plugin sets it up: the metrics with their sources,
// the host's registry when it passes one, the tracer once the app is ready,
// and the health check. The optional peers are imported here only, and
// only when asked for.
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { CacheStats, HealthReport } from '../../fastify-plugin.js'
import type { ChangeFeed } from '../cache/listener.js'
import type { ObservabilitySettings } from '../options/observability.js'
import { codes } from '../errors.js'
import { formatRevision } from '../revision.js'
import type { ReadRoute } from '../store/replicas.js'
import { createHealth } from './health.js'
import { Metrics, Observer } from './index.js'
import { loadTracingApi, tracerOf } from './tracing.js'

export interface ObservabilityProps {
  readonly fastify: FastifyInstance
  readonly settings: ObservabilitySettings
  readonly db: Kysely<any>
  readonly cache: { stats: () => CacheStats, feed: ChangeFeed } | null
  readonly route: ReadRoute | null
}

export async function setUpObservability ({ fastify, settings, db, cache, route }: ObservabilityProps): Promise<{ observer: Observer, health: () => Promise<HealthReport> }> {
  const standbys = route === null ? null : () => route.status().map((s) => ({ ...s, replayed: formatRevision(s.replayed) }))
  const health = createHealth({
    db,
    timeout: settings.healthTimeout,
    listening: cache === null ? null : () => cache.feed.listening,
    standbys
  })
  const metrics = new Metrics({
    cache: cache === null ? () => null : cache.stats,
    feed: cache === null ? () => null : () => cache.feed.stats(),
    standbys: standbys ?? (() => null),
    health: () => {
      const last = health.last()
      if (last === null) return null
      return { database: last.database.ok, listen: last.listen?.ok ?? null, standbys: last.standbys === null ? null : last.standbys.every((s) => s.ok) }
    }
  })
  const observer = new Observer(metrics, settings.traceIds)

  if (settings.registry !== null) {
    let client: typeof import('prom-client')
    try {
      client = await import('prom-client')
    } catch {
      throw new codes.FST_DEFAULT_DENY_INVALID_OPTION('observability.registry', 'needs prom-client installed')
    }
    const unregister = metrics.register(client, settings.registry, settings.prefix)
    fastify.addHook('onClose', async () => { unregister() })
  }
  if (settings.traces) {
    const api = await loadTracingApi()
    // An SDK is registered at start-up, before the app is ready; checking once keeps the request path free of it.
    if (api !== null) fastify.addHook('onReady', async () => { observer.tracer = tracerOf(api) })
  }
  return { observer, health: health.check }
}
