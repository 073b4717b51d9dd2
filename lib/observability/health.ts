// The health check: the database answers within the timeout, the decision
// cache's LISTEN connection is up (when the cache is on), and every standby
// is within replicas.maxLag (when standbys are configured). A lost LISTEN or
// a lagging standby degrades (checks go to the primary, still correct); an
// unreachable database is down (every check fails closed).
import { sql, type Kysely } from 'kysely'
import type { HealthReport } from '../../fastify-plugin.js'
import { inTime } from '../store/deadline.js'

export interface HealthProps {
  readonly db: Kysely<any>
  readonly timeout: number
  readonly listening: (() => boolean) | null
  readonly standbys: (() => Array<{ name: string, usable: boolean, lag: number | null }>) | null
}

async function ping (db: Kysely<any>, timeout: number): Promise<{ ok: boolean, ms: number, error: string | null }> {
  const started = performance.now()
  try {
    await inTime(sql`select 1`.execute(db), timeout)
    return { ok: true, ms: performance.now() - started, error: null }
  } catch (err) {
    // The message only: a driver's error may carry the connection string.
    const message = err instanceof Error && err.message.startsWith('no answer within') ? err.message : 'unreachable'
    return { ok: false, ms: performance.now() - started, error: message }
  }
}

export function createHealth ({ db, timeout, listening, standbys }: HealthProps): { check: () => Promise<HealthReport>, last: () => HealthReport | null } {
  let last: HealthReport | null = null
  async function check (): Promise<HealthReport> {
    const database = await ping(db, timeout)
    const listen = listening === null ? null : { ok: listening() }
    const replicas = standbys === null ? null : standbys().map(({ name, usable, lag }) => ({ name, ok: usable, lag }))
    const status = !database.ok ? 'down' : listen?.ok === false || replicas?.some((s) => !s.ok) === true ? 'degraded' : 'ok'
    last = { ok: status === 'ok', status, database, listen, standbys: replicas }
    return last
  }
  return { check, last: () => last }
}
