import { createHash } from 'node:crypto'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'
import type { PostgresOptions } from '../../fastify-plugin.js'
import { PREPARED_MARKER } from './check.js'
import { declareCapabilities, preparedPage, type DirectRunner } from './database.js'

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

// One name per statement text, derived from the text: pg keeps a named
// statement per connection, and a name must never stand for two texts.
const statementNames = new Map<string, string>()
function statementName (text: string): string {
  let name = statementNames.get(text)
  if (name === undefined) {
    name = `fdd_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`
    statementNames.set(text, name)
  }
  return name
}

/**
 * Lends pg clients to Kysely. Sends the plugin's marked statements (the route
 * check) and a host's statements holding `visible`'s condition (see
 * `preparedPage`) as named prepared statements, parsed and planned once per
 * connection. Closes a client whose query got no answer within
 * `query_timeout`: its socket is stalled, and returned to the pool as is it
 * would make every later query on it wait behind the lost one.
 */
class PluginPool implements PostgresPool {
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
            return sql.startsWith(PREPARED_MARKER) || preparedPage(sql)
              ? await client.query({ name: statementName(sql), text: sql, values: parameters as unknown[] })
              : await client.query(sql, parameters as unknown[])
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

/**
 * Your own `pg.Pool` as Kysely's pool, the way the plugin uses its own: the
 * route check runs as a prepared statement, and a stalled connection is
 * closed rather than reused. Guard the pool first (`guardPool`).
 */
export function kyselyPool (pool: pg.Pool): PostgresPool {
  return new PluginPool(pool)
}

/** The check's way around Kysely: a pool client, the named statement, release. */
function directRunner (pool: pg.Pool): DirectRunner {
  return async (text, values, budget) => {
    const client = await pool.connect()
    let stalled: Error | undefined
    try {
      budget?.assertLive()
      return (await client.query({ name: statementName(text), text, values })).rows
    } catch (err) {
      if ((err as Error).message === READ_TIMEOUT) stalled = err as Error
      throw err
    } finally {
      client.release(stalled)
    }
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
    query_timeout: queryTimeout,
    ...(options.genericPlans === true ? { options: '-c plan_cache_mode=force_generic_plan' } : {})
  }), options.onError)
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: kyselyPool(pool) }) })
  declareCapabilities(db, { direct: directRunner(pool) })
  return db
}
