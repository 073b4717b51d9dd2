// What the plugin tells an operator about each decision and change: metrics
// always (kept in process; on the host's registry when it passes one), a
// span when an OpenTelemetry SDK is registered, and a message on the
// decision channel when something subscribes to it. User and resource ids
// reach a span only when the host opts in (observability.traceIds); a token
// never does.
import { channel } from 'node:diagnostics_channel'
import type { Attributes, Tracer } from '@opentelemetry/api'
import { formatRevision } from '../revision.js'
import type { ReadNote } from '../store/check.js'
import { Metrics } from './metrics.js'
import type { AnsweredBy, Outcome, Reason } from './reasons.js'
import { recordSpan } from './tracing.js'

export { Metrics } from './metrics.js'
export type { ReadNote } from '../store/check.js'
export type { AnsweredBy, Outcome, Reason } from './reasons.js'

/** The channel each decision is published on, as Fastify publishes its requests on `tracing:fastify.request.handler`. */
export const DECISION_CHANNEL = 'fastify-default-deny.decision'
export const CHECK_SPAN = 'fastify-default-deny.check'
export const WRITE_SPAN = 'fastify-default-deny.write'

const decisionChannel = channel(DECISION_CHANNEL)

/** The route label of a decision asked through `app.permissions`. */
export const API_ROUTE = '(api)'


export interface DecisionFacts {
  /** The route's pattern, or API_ROUTE. */
  route: string
  resource: string
  privilege: string
  outcome: Outcome
  reason: Reason
  answeredBy: AnsweredBy
  /** performance.now() when the decision began, and when its query did (null: none). */
  started: number
  queried: number | null
  /** The revision the answer had to reflect. */
  revision: bigint | null
  note: ReadNote | null
  principalId: string | null
  resourceId: string | null
  /** The Fastify request, for the channel's subscribers; null through the API. */
  request: unknown
  /** How many answers (checkMany). */
  count: number
}

export class Observer {
  readonly metrics: Metrics
  readonly #ids: boolean
  #tracer: Tracer | null = null

  constructor (metrics: Metrics, ids: boolean) {
    this.metrics = metrics
    this.#ids = ids
  }

  /** Set once the app is ready, if an SDK was registered (see tracing.ts). */
  set tracer (tracer: Tracer | null) {
    this.#tracer = tracer
  }

  /** Whether anyone reads more than the counts: then the readers note where they read from. */
  get detailed (): boolean {
    return this.#tracer !== null || decisionChannel.hasSubscribers
  }

  decision (facts: DecisionFacts): void {
    const now = performance.now()
    const seconds = (now - facts.started) / 1000
    this.metrics.decision(facts.route, facts.resource, facts.privilege, facts.outcome, facts.reason, facts.answeredBy, seconds, facts.count)
    const tracer = this.#tracer
    if (tracer !== null) recordSpan(tracer, CHECK_SPAN, facts.started, this.#attributes(facts, now), facts.outcome === 'error')
    if (decisionChannel.hasSubscribers) {
      decisionChannel.publish({
        request: facts.request,
        route: facts.route,
        resource: facts.resource,
        privilege: facts.privilege,
        outcome: facts.outcome,
        reason: facts.reason,
        answeredBy: facts.answeredBy,
        durationMs: now - facts.started,
        standby: facts.note?.standby ?? null,
        revision: facts.revision === null ? null : formatRevision(facts.revision)
      })
    }
  }

  #attributes (facts: DecisionFacts, now: number): Attributes {
    const attributes: Attributes = {
      'default_deny.route': facts.route,
      'default_deny.resource_type': facts.resource,
      'default_deny.privilege': facts.privilege,
      'default_deny.decision': facts.outcome,
      'default_deny.reason': facts.reason,
      'default_deny.answered_by': facts.answeredBy,
      'default_deny.cache_hit': facts.answeredBy === 'cache'
    }
    if (facts.count !== 1) attributes['default_deny.count'] = facts.count
    if (facts.queried !== null) attributes['default_deny.db_ms'] = now - facts.queried
    if (facts.revision !== null) attributes['default_deny.revision'] = formatRevision(facts.revision)
    const standby = facts.note?.standby ?? null
    if (standby !== null) attributes['default_deny.standby'] = standby
    if (this.#ids) {
      if (facts.principalId !== null) attributes['enduser.id'] = facts.principalId
      if (facts.resourceId !== null) attributes['default_deny.resource_id'] = facts.resourceId
    }
    return attributes
  }

  /** One change through the runner, from `started`; `error` is what it threw. */
  change (action: string, refs: ReadonlyArray<{ resource: string, id: string | null }>, started: number, revision: bigint | null, actorId: string | null, error: unknown): void {
    const failed = error !== undefined
    this.metrics.change(action, failed ? 'error' : 'ok')
    const tracer = this.#tracer
    if (tracer === null) return
    const attributes: Attributes = {
      'default_deny.action': action,
      'default_deny.outcome': failed ? 'error' : 'ok',
      'default_deny.resource_type': [...new Set(refs.map((r) => r.resource))].sort().join(',')
    }
    if (revision !== null) attributes['default_deny.revision'] = formatRevision(revision)
    const code = (error as { code?: unknown } | undefined)?.code
    if (typeof code === 'string') attributes['default_deny.error_code'] = code
    if (this.#ids) {
      if (actorId !== null) attributes['enduser.id'] = actorId
      const ids = refs.flatMap((r) => r.id === null ? [] : [r.id])
      if (ids.length > 0) attributes['default_deny.resource_id'] = ids.slice(0, 100)
    }
    recordSpan(tracer, WRITE_SPAN, started, attributes, failed)
  }
}
