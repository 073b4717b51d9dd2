// The embedded database runs no autovacuum (PGlite starts no background
// worker): its tables are never analyzed or vacuumed unless someone asks, so
// its planner has no statistics however large they grow, and no page is
// marked all-visible, so every index-only probe of a check still visits the
// table. After a bulk write the command-line tool asks, while it holds the
// database alone.
import { sql, type Kysely } from 'kysely'
import { databaseOf } from './database.js'

/**
 * On the embedded database, `VACUUM (ANALYZE)` of every table in the
 * plugin's schema; nothing on PostgreSQL, whose autovacuum does it. Returns
 * the tables it ran on.
 */
export async function refreshEmbeddedStatistics (db: Kysely<any>, schema: string): Promise<string[]> {
  if (!databaseOf(db).embedded) return []
  const { rows } = await sql<{ name: string }>`select tablename as name from pg_catalog.pg_tables where schemaname = ${schema} order by tablename`.execute(db)
  for (const { name } of rows) await sql`vacuum (analyze) ${sql.id(schema, name)}`.execute(db)
  return rows.map((row) => row.name)
}
