// Embedded PostgreSQL (PGlite) behind Kysely's own PostgresDialect, so the
// embedded and the real database share the query compiler and driver code.
// PGlite is a single connection: the pool below lends it to one Kysely
// connection at a time, which keeps transactions isolated from each other.
import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import { registerRunner, type DirectRunner } from './check.js'
import { postgresKysely } from './postgres.js'

export class PGlitePool implements PostgresPool {
  readonly #pglite: PGlite
  #tail: Promise<void> = Promise.resolve()
  #ended = false

  constructor (pglite: PGlite) {
    this.#pglite = pglite
  }

  /** Waits for the one connection; returns how to give it back. */
  async #acquire (): Promise<() => void> {
    if (this.#ended) throw new Error('PGlite pool has been ended')
    let release!: () => void
    const previous = this.#tail
    this.#tail = new Promise<void>((resolve) => { release = resolve })
    await previous
    return release
  }

  /** The check's way around Kysely, still taking its turn on the connection. */
  readonly run: DirectRunner = async (text, values, budget) => {
    const release = await this.#acquire()
    try {
      budget?.assertLive()
      return (await this.#pglite.query<Record<string, unknown>>(text, values)).rows
    } finally {
      release()
    }
  }

  async connect (): Promise<PostgresPoolClient> {
    const release = await this.#acquire()
    const pglite = this.#pglite
    let released = false
    return {
      async query (sql: string, parameters: ReadonlyArray<unknown>) {
        const result = await pglite.query(sql, [...parameters])
        return {
          command: (result.command ?? 'SELECT').toUpperCase(),
          rowCount: result.rowCount ?? result.affectedRows ?? 0,
          rows: result.rows
        }
      },
      release () {
        if (released) return
        released = true
        release()
      }
    } as unknown as PostgresPoolClient
  }

  async end (): Promise<void> {
    this.#ended = true
    await this.#tail
    if (!this.#pglite.closed) await this.#pglite.close()
  }
}

/**
 * A Kysely instance on an embedded PGlite database: in memory when `dataDir`
 * is omitted, persisted in that directory otherwise. `db.destroy()` closes it.
 */
export async function createPGliteKysely<DB = any> (dataDir?: string): Promise<Kysely<DB>> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true })
  const pglite = await PGlite.create(dataDir)
  const pool = new PGlitePool(pglite)
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  registerRunner(db, pool.run)
  return db
}

/** Where the example and the migration command keep the embedded database. */
export const DEFAULT_PGLITE_DIR = '.data/pglite'

/**
 * PostgreSQL at `url` when it is set and not empty, otherwise the embedded
 * database in `dataDir` (in memory when omitted): what the example, the
 * migration command and the benchmark all do with `DATABASE_URL`.
 */
export async function openDatabase<DB = any> (url: string | undefined, dataDir?: string, max?: number): Promise<Kysely<DB>> {
  return url !== undefined && url !== '' ? postgresKysely<DB>(url, { max }) : await createPGliteKysely<DB>(dataDir)
}
