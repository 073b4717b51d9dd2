import { Migrator, sql, type DatabaseIntrospector, type Kysely, type Migration, type SchemaMetadata, type TableMetadata } from 'kysely'
import type { MigrateOptions } from '../../fastify-plugin.js'
import { migrations } from '../../migrations/index.js'
import { reasonOf } from '../error-reason.js'
import { codes } from '../errors.js'

/** Where the plugin's tables live when no `schema` is given. */
export const DEFAULT_SCHEMA = 'public'

// Never change these: a renamed table makes every migration run again.
export const MIGRATION_TABLE = 'default_deny_migration'
export const MIGRATION_LOCK_TABLE = 'default_deny_migration_lock'

// Kysely's migrator asks whether its schema and tables exist by listing every
// schema, and every column of every table in the database. That costs what the
// whole host database holds at each start, and it fails ("schema ... does not
// exist") when another session drops a schema while the list is read, since
// the list checks each schema's privileges by name. Its questions are only
// about the plugin's own schema, so this answers them from that schema alone.
function scopedIntrospector (db: Kysely<any>, schema: string): DatabaseIntrospector {
  const tables = async (): Promise<TableMetadata[]> => {
    const { rows } = await sql<{ name: string }>`select c.relname as name from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v')`.execute(db)
    return rows.map(({ name }) => ({ name, schema, isView: false, columns: [] }))
  }
  return {
    async getSchemas (): Promise<SchemaMetadata[]> {
      const { rows } = await sql<SchemaMetadata>`select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db)
      return rows
    },
    getTables: tables,
    async getMetadata () { return { tables: await tables() } }
  }
}

// The host's Kysely with only `introspection` answered differently; every other
// member is the Kysely's own, called on it (its private fields need that).
function scoped (db: Kysely<any>, schema: string): Kysely<any> {
  const introspection = scopedIntrospector(db, schema)
  return new Proxy(db, {
    get (target, property) {
      if (property === 'introspection') return introspection
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

function migrator (db: Kysely<any>, schema: string): Migrator {
  return new Migrator({
    db: scoped(db.withSchema(schema), schema),
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    migrationTableSchema: schema
  })
}

/** Returns the names of the migrations that ran; throws a coded error on failure. */
export async function runMigrations (db: Kysely<any>, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? DEFAULT_SCHEMA
  const run = migrator(db, schema)
  const { error, results } = options.direction === 'down'
    ? await run.migrateDown()
    : await run.migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName
    const err = new codes.FST_DEFAULT_DENY_MIGRATION_FAILED(`${failed === undefined ? '' : `${failed}: `}${reasonOf(error)}`)
    err.cause = error
    throw err
  }
  return (results ?? []).map((result) => result.migrationName)
}

/** Every migration the plugin has, in order, with when it was applied in `schema` (null: pending). */
export async function migrationStatus (db: Kysely<any>, options: Pick<MigrateOptions, 'schema'> = {}): Promise<Array<{ name: string, executedAt: Date | null }>> {
  const schema = options.schema ?? DEFAULT_SCHEMA
  try {
    const infos = await migrator(db, schema).getMigrations()
    return infos.map((info) => ({ name: info.name, executedAt: info.executedAt ?? null }))
  } catch (error) {
    const err = new codes.FST_DEFAULT_DENY_MIGRATION_FAILED(`status: ${reasonOf(error)}`)
    err.cause = error
    throw err
  }
}

/** What reverting the last applied migration would destroy: tables with their rows, columns with their values. */
export interface DownPlan {
  /** The migration `down` would revert; null when none is applied. */
  migration: string | null
  tables: Array<{ table: string, rows: number }>
  columns: Array<{ table: string, column: string, values: number }>
}

// Thrown to roll the rehearsal back once it has been measured.
class Rehearsed extends Error {}

interface Shape { tables: Map<string, Set<string>> }

async function shapeOf (db: Kysely<any>, schema: string): Promise<Shape> {
  const rows = await db.selectFrom('information_schema.columns as c')
    .innerJoin('information_schema.tables as t', (join) => join.onRef('t.table_schema', '=', 'c.table_schema').onRef('t.table_name', '=', 'c.table_name'))
    .select(['c.table_name as table', 'c.column_name as column'])
    .where('c.table_schema', '=', schema).where('t.table_type', '=', 'BASE TABLE')
    .execute() as Array<{ table: string, column: string }>
  const tables = new Map<string, Set<string>>()
  for (const { table, column } of rows) {
    if (table === MIGRATION_TABLE || table === MIGRATION_LOCK_TABLE) continue
    let columns = tables.get(table)
    if (columns === undefined) tables.set(table, columns = new Set())
    columns.add(column)
  }
  return { tables }
}

/**
 * Rehearses `down` in a transaction that is rolled back: the tables and
 * columns it would drop are those missing afterwards, counted beforehand.
 * Exact whatever the migration does, and nothing is changed.
 */
export async function planMigrateDown (db: Kysely<any>, options: Pick<MigrateOptions, 'schema'> = {}): Promise<DownPlan> {
  const schema = options.schema ?? DEFAULT_SCHEMA
  const applied = (await migrationStatus(db, { schema })).filter((m) => m.executedAt !== null)
  const last = applied.at(-1)?.name
  if (last === undefined) return { migration: null, tables: [], columns: [] }
  const migration = migrations[last] as Migration
  const plan: DownPlan = { migration: last, tables: [], columns: [] }
  try {
    await db.transaction().execute(async (trx) => {
      const before = await shapeOf(trx, schema)
      const counts = new Map<string, number>()
      const values = new Map<string, number>()
      for (const [table, columns] of before.tables) {
        const from = trx.withSchema(schema).selectFrom(table)
        counts.set(table, Number((await from.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n))
        for (const column of columns) {
          values.set(`${table}.${column}`, Number((await from.select((eb) => eb.fn.count(column).as('n')).executeTakeFirstOrThrow()).n))
        }
      }
      await migration.down?.(trx.withSchema(schema))
      const after = await shapeOf(trx, schema)
      for (const [table, columns] of before.tables) {
        const kept = after.tables.get(table)
        if (kept === undefined) {
          plan.tables.push({ table, rows: counts.get(table) ?? 0 })
          continue
        }
        for (const column of columns) {
          if (!kept.has(column)) plan.columns.push({ table, column, values: values.get(`${table}.${column}`) ?? 0 })
        }
      }
      throw new Rehearsed()
    })
  } catch (err) {
    if (!(err instanceof Rehearsed)) {
      const wrapped = new codes.FST_DEFAULT_DENY_MIGRATION_FAILED(`${last} (rehearsing down): ${reasonOf(err)}`)
      wrapped.cause = err
      throw wrapped
    }
  }
  return plan
}
