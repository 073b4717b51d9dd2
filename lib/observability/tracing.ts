// Spans through @opentelemetry/api, an optional peer: it is imported once, at
// registration, only when traces are on, and the tracer is taken once the
// app is ready and only if an SDK has registered a tracer provider by then.
// Without the API, or with the no-op provider, the request path holds `null`
// and makes no span object at all.
import type { Attributes, Tracer } from '@opentelemetry/api'

type Api = typeof import('@opentelemetry/api')

export const TRACER_NAME = 'fastify-default-deny'

/** The API, or `null` when it is not installed. */
export async function loadTracingApi (): Promise<Api | null> {
  try {
    return await import('@opentelemetry/api')
  } catch {
    return null
  }
}

/** The tracer, or `null` while the global provider is the API's no-op one. */
export function tracerOf (api: Api): Tracer | null {
  const provider = api.trace.getTracerProvider() as { getDelegate?: () => object }
  const delegate = provider.getDelegate?.() ?? provider
  if (delegate.constructor.name === 'NoopTracerProvider') return null
  return api.trace.getTracer(TRACER_NAME)
}

const epoch = performance.timeOrigin

/**
 * A span from `started` (performance.now()) to now, made once the work is
 * over: the context active then is still the request's (async context
 * follows the awaits), so it is the child of @fastify/otel's span.
 */
export function recordSpan (tracer: Tracer, name: string, started: number, attributes: Attributes, failed: boolean): void {
  const span = tracer.startSpan(name, { startTime: epoch + started, attributes })
  // Status code 2 is ERROR; a refusal is an answer, not an error.
  if (failed) span.setStatus({ code: 2 })
  span.end()
}
