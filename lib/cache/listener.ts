// The feed of committed changes the decision cache lives on: LISTEN on the
// schema's channel, on a connection of its own. The cache serves answers only
// while the feed is up; when the connection is lost it is dropped at once and
// stays off until LISTEN is back, so no change can pass unheard while answers
// are served.
import pg from 'pg'
import { parseRevision } from '../revision.js'
import { quotedChannel } from '../store/channel.js'
import { inTime } from '../store/deadline.js'
import type { InProcessListen } from '../store/database.js'
import { INSERT_POSITION } from '../store/positions.js'
import { applyNotification } from './changes.js'
import type { DecisionCache } from './decision-cache.js'

export interface FeedLog {
  info: (details: object, message: string) => void
  warn: (details: object, message: string) => void
}

export interface ChangeFeed {
  readonly listening: boolean
  /** Resolves once the first attempt to listen is over (it may have failed: retries go on). */
  start: () => Promise<void>
  close: () => Promise<void>
  /**
   * Resolves once every change acknowledged to its writer before this call
   * has been heard and applied, with the primary's insert position at that
   * point; rejects while not listening.
   */
  barrier: () => Promise<bigint>
  /** For the metrics: reconnections after a loss, and how long ago (seconds) the feed was last proven current (null: not listening). */
  stats: () => { listening: boolean, reconnections: number, lag: number | null }
}

/**
 * Coalesces barriers: a caller joins the next one sent after it called,
 * never one already on its way. At most one is in flight and one waits.
 */
function barriers (send: () => Promise<bigint>): () => Promise<bigint> {
  let inFlight: Promise<bigint> | null = null
  let waiting: Promise<bigint> | null = null
  const launch = (): Promise<bigint> => {
    const sent = send()
    inFlight = sent
    const done = () => { if (inFlight === sent) inFlight = null }
    sent.then(done, done)
    return sent
  }
  return () => {
    if (inFlight === null) return launch()
    if (waiting === null) {
      waiting = inFlight.then(() => undefined, () => undefined).then(() => {
        waiting = null
        return launch()
      })
    }
    return waiting
  }
}

const FIRST_RETRY = 100
const LAST_RETRY = 5_000

export interface PostgresFeedProps {
  connectionString: string
  schema: string
  cache: DecisionCache
  log: FeedLog
  /**
   * The longest the cache may go on serving after the feed was last proven
   * current: past it, with no proof since, the feed counts as lost.
   */
  heartbeat: number
}

/**
 * The connection string without an `application_name` of its own: pg lets
 * the URL's parameters override the client's options, and the listener's
 * name is how an operator finds it in pg_stat_activity.
 */
export function withoutApplicationName (connectionString: string): string {
  let url: URL
  try {
    url = new URL(connectionString)
  } catch {
    return connectionString
  }
  if (!url.searchParams.has('application_name')) return connectionString
  url.searchParams.delete('application_name')
  return url.toString()
}

// Probes per heartbeat: a stall is then noticed after at most one heartbeat,
// not the two (one interval to send the next probe, one to time it out) a
// single probe per heartbeat would take.
const PROBES_PER_HEARTBEAT = 4

/**
 * LISTEN on PostgreSQL. The connection must reach the server itself (not
 * through a pooler in transaction mode, which hands each statement to any
 * server connection: the LISTEN would be on one that is then given away).
 */
export function postgresFeed (props: PostgresFeedProps): ChangeFeed {
  const { cache, log } = props
  const channel = quotedChannel(props.schema)
  let client: pg.Client | null = null
  let listening = false
  let closed = false
  let attempt = 0
  let retry: NodeJS.Timeout | null = null
  let heartbeat: NodeJS.Timeout | null = null
  /** When the newest statement that has been answered on the connection was sent. */
  let provenAt = 0
  let connections = 0

  function stopTimers (): void {
    if (heartbeat !== null) clearInterval(heartbeat)
    heartbeat = null
  }

  // An answer to a statement sent at `sentAt` proves every change
  // acknowledged before then has been heard (see the barrier below): what
  // the cache serves is never staler than the time since the newest such
  // proof, and it serves nothing once that reaches a heartbeat (checked on
  // every hit, so a busy event loop cannot stretch it), keeping its entries
  // until a fresh proof: the connection may only be slow, and notifications
  // still arrive in order. A connection really gone fails its probes'
  // timeout and is dropped as lost.
  function proven (on: pg.Client, sentAt: number): void {
    if (on !== client || !listening || sentAt <= provenAt) return
    provenAt = sentAt
    cache.provenUntil(sentAt + props.heartbeat)
  }

  function lost (from: pg.Client, err: unknown): void {
    if (from !== client) return
    client = null
    const wasListening = listening
    listening = false
    cache.turnOff()
    stopTimers()
    from.removeAllListeners('notification')
    // A stalled socket never finishes a polite end: cut it.
    void from.end().catch(() => {})
    ;(from as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.()
    if (closed) return
    if (wasListening) log.warn({ err }, 'fastify-default-deny: decision cache lost its change feed; off until it listens again')
    const delay = Math.min(LAST_RETRY, FIRST_RETRY * 2 ** attempt)
    attempt++
    retry = setTimeout(() => { retry = null; void connect() }, delay)
    retry.unref()
  }

  async function connect (): Promise<void> {
    if (closed) return
    const next = new pg.Client({
      connectionString: withoutApplicationName(props.connectionString),
      // Names the schema: an operator (or a test) can tell the listeners apart in pg_stat_activity.
      application_name: `fastify-default-deny cache ${props.schema}`.slice(0, 63),
      keepAlive: true,
      connectionTimeoutMillis: props.heartbeat
    })
    client = next
    // Every error of this connection ends it; none may go unhandled.
    next.on('error', (err) => { lost(next, err) })
    next.on('end', () => { lost(next, new Error('connection ended')) })
    next.on('notification', (message) => {
      if (listening && client === next) applyNotification(cache, message.payload ?? '')
    })
    let listenSent: number
    try {
      await next.connect()
      listenSent = performance.now()
      await inTime(next.query(`LISTEN ${channel}`), props.heartbeat)
    } catch (err) {
      lost(next, err)
      return
    }
    if (client !== next || closed) return
    attempt = 0
    listening = true
    connections++
    provenAt = 0
    cache.turnOn()
    proven(next, listenSent)
    log.info({}, 'fastify-default-deny: decision cache listening for changes')
    heartbeat = setInterval(() => {
      const sentAt = performance.now()
      inTime(next.query('select 1'), props.heartbeat).then(() => { proven(next, sentAt) }, (err: unknown) => { lost(next, err) })
    }, Math.max(1, Math.floor(props.heartbeat / PROBES_PER_HEARTBEAT)))
    heartbeat.unref()
  }

  // A committing backend signals every listener before its client sees the
  // commit, and a listener sends what it was signalled before it answers a
  // statement: so a statement sent on the LISTEN connection after a change
  // was acknowledged is answered only after that change's notification.
  const barrier = barriers(async () => {
    const on = client
    if (!listening || on === null) throw new Error('not listening')
    const sentAt = performance.now()
    const { rows } = await inTime(on.query<{ lsn: string }>(INSERT_POSITION), props.heartbeat)
    if (!listening || client !== on) throw new Error('not listening')
    proven(on, sentAt)
    return parseRevision(rows[0]?.lsn) as bigint
  })

  return {
    get listening () { return listening },
    start: connect,
    barrier,
    stats: () => ({
      listening,
      reconnections: Math.max(0, connections - 1),
      lag: listening ? (performance.now() - provenAt) / 1000 : null
    }),
    async close () {
      closed = true
      if (retry !== null) clearTimeout(retry)
      stopTimers()
      cache.turnOff()
      listening = false
      const last = client
      client = null
      if (last !== null) await last.end().catch(() => {})
    }
  }
}

/** LISTEN on the embedded database, within the one process: it cannot be lost. */
export function inProcessFeed (listen: InProcessListen, channel: string, cache: DecisionCache, position: () => Promise<bigint>): ChangeFeed {
  let unlisten: (() => Promise<void>) | null = null
  let listening = false
  return {
    get listening () { return listening },
    stats: () => ({ listening, reconnections: 0, lag: listening ? 0 : null }),
    // Notifications are delivered within the commit: a statement after it finds them applied.
    barrier: barriers(async () => {
      if (!listening) throw new Error('not listening')
      return await position()
    }),
    async start () {
      unlisten = await listen(channel, (payload) => { if (listening) applyNotification(cache, payload) })
      listening = true
      cache.turnOn()
    },
    async close () {
      listening = false
      cache.turnOff()
      await unlisten?.()
    }
  }
}
