import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'
import type { PostgresOptions } from '../../fastify-plugin.js'

/**
 * Attaches the listeners that keep a lost connection from crashing the
 * process: pg-pool listens for a client's `'error'` only while it is idle, and
 * a client in use when its backend dies emits one too. Call it on a `pg.Pool`
 * of your own before handing it to Kysely; `postgresKysely` does it for you.
 */
export function guardPool (pool: pg.Pool, onError: (err: Error) => void = () => {}): pg.Pool {
  // Every client reports to `onError` through its own listener, idle or not;
  // the pool's 'error' event repeats the idle case and is only silenced.
  pool.on('error', () => {})
  pool.on('connect', (client) => { client.on('error', onError) })
  return pool
}

const READ_TIMEOUT = 'Query read timeout'

/**
 * Lends pg clients to Kysely and closes a client whose query got no answer
 * within `query_timeout`: its socket is stalled, and returned to the pool as
 * is it would make every later query on it wait behind the lost one.
 */
class DiscardingPool implements PostgresPool {
  readonly #pool: pg.Pool
  readonly #wrappers = new WeakMap<pg.PoolClient, { client: PostgresPoolClient, stalled: Error | undefined }>()

  constructor (pool: pg.Pool) {
    this.#pool = pool
  }

  async connect (): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect()
    let entry = this.#wrappers.get(client)
    if (entry === undefined) {
      const state: { client: PostgresPoolClient, stalled: Error | undefined } = { client: undefined as never, stalled: undefined }
      state.client = {
        async query (sql: string, parameters: ReadonlyArray<unknown>) {
          try {
            return await client.query(sql, parameters as unknown[])
          } catch (err) {
            if ((err as Error).message === READ_TIMEOUT) state.stalled = err as Error
            throw err
          }
        },
        release () {
          const stalled = state.stalled
          state.stalled = undefined
          client.release(stalled)
        }
      } as unknown as PostgresPoolClient
      entry = state
      this.#wrappers.set(client, entry)
    }
    return entry.client
  }

  async end (): Promise<void> {
    await this.#pool.end()
  }
}

/** A Kysely instance on its own guarded `pg` pool; `db.destroy()` ends the pool. */
export function postgresKysely<DB = any> (connectionString: string, options: PostgresOptions = {}): Kysely<DB> {
  const { statementTimeout } = options
  const queryTimeout = options.queryTimeout ?? (statementTimeout === undefined ? undefined : statementTimeout + 1000)
  const pool = guardPool(new pg.Pool({
    connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    statement_timeout: statementTimeout,
    query_timeout: queryTimeout
  }), options.onError)
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: new DiscardingPool(pool) }) })
}
