// The embedded database runs no autovacuum (PGlite starts no background
// worker): its tables are never analyzed or vacuumed unless someone asks, so
// its planner has no statistics however large they grow, no page is marked
// all-visible (every index-only probe of a check still visits the table), and
// the rows a revoke deletes or an update replaces are never reclaimed. After
// a bulk write the command-line tool asks, while it holds the database alone;
// a running plugin asks through EmbeddedUpkeep, after enough changes.
import { sql, type Kysely } from 'kysely'
import { databaseOf } from './database.js'

/**
 * On the embedded database, `VACUUM (ANALYZE)` of every table in the
 * plugin's schema, one table at a time (each takes its own turn on the one
 * connection, so requests waiting for it run between tables); nothing on
 * PostgreSQL, whose autovacuum does it. Returns how many rows the tables hold
 * now, as the vacuum counted them.
 */
export async function refreshEmbeddedStatistics (db: Kysely<any>, schema: string): Promise<number> {
  if (!databaseOf(db).embedded) return 0
  const { rows: tables } = await sql<{ name: string }>`select tablename as name from pg_catalog.pg_tables where schemaname = ${schema} order by tablename`.execute(db)
  for (const { name } of tables) await sql`vacuum (analyze) ${sql.id(schema, name)}`.execute(db)
  const { rows } = await sql<{ rows: number }>`select coalesce(sum(greatest(c.reltuples, 0)), 0)::float8 as rows
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind = 'r'`.execute(db)
  return Number(rows[0]?.rows ?? 0)
}

/**
 * How many rows may change before the next upkeep: autovacuum's rule for
 * ANALYZE on PostgreSQL (a base plus a tenth of the table), with a larger
 * base, since here a vacuum holds the only connection while it runs.
 */
export const UPKEEP_BASE = 1000
export const UPKEEP_FRACTION = 0.1

export interface UpkeepProps {
  /** Vacuums and analyzes; resolves to the rows the tables hold after it. */
  readonly refresh: () => Promise<number>
  /** A failed upkeep: reported, never thrown at a request. */
  readonly onError: (err: unknown) => void
}

/**
 * What autovacuum would do for the plugin's tables on the embedded
 * database: counts the rows changes touch (it is told of each change as the
 * decision cache is: `resources`, `subjects`, plus `rows` for what neither
 * names) and, once they pass `UPKEEP_BASE` plus `UPKEEP_FRACTION` of the rows
 * the tables held at the last upkeep, refreshes them, after the change's
 * caller has its answer. One upkeep at a time; changes during one count
 * toward the next.
 */
export class EmbeddedUpkeep {
  readonly #props: UpkeepProps
  #pending = 0
  #rows = 0
  #running: Promise<void> | null = null
  #closed = false

  constructor (props: UpkeepProps) {
    this.#props = props
  }

  resources (refs: readonly unknown[]): void { this.rows(refs.length) }
  subjects (members: readonly unknown[]): void { this.rows(members.length) }

  /** `count` more rows written, updated or deleted. */
  rows (count: number): void {
    if (this.#closed || count <= 0) return
    this.#pending += count
    if (this.#running === null && this.#pending >= UPKEEP_BASE + UPKEEP_FRACTION * this.#rows) {
      this.#running = this.#run()
    }
  }

  async #run (): Promise<void> {
    // The change that crossed the line answers its caller first.
    await new Promise((resolve) => setImmediate(resolve))
    this.#pending = 0
    try {
      this.#rows = await this.#props.refresh()
    } catch (err) {
      this.#props.onError(err)
    } finally {
      this.#running = null
    }
  }

  /**
   * Stops counting, and waits for the upkeep under way or due (a process
   * that stops after a large write leaves its tables refreshed): the
   * database may close after this.
   */
  async close (): Promise<void> {
    this.#closed = true
    await this.#running
  }
}
