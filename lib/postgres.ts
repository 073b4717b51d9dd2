import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

export interface PostgresOptions {
  /** Most connections the pool opens. @default 10 (pg's default) */
  max?: number
  connectionTimeoutMillis?: number
  /** Told when an idle connection fails; without a listener pg would crash the process. */
  onIdleError?: (err: Error) => void
}

/** A Kysely instance on its own `pg` pool; `db.destroy()` ends the pool. */
export function postgresKysely<DB = any> (connectionString: string, options: PostgresOptions = {}): Kysely<DB> {
  const pool = new pg.Pool({ connectionString, max: options.max, connectionTimeoutMillis: options.connectionTimeoutMillis })
  pool.on('error', options.onIdleError ?? (() => {}))
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
}
