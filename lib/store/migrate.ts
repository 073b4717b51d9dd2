import { Migrator, type Kysely } from 'kysely'
import type { MigrateOptions } from '../../fastify-plugin.js'
import { migrations } from '../../migrations/index.js'
import { reasonOf } from '../error-reason.js'
import { codes } from '../errors.js'
import { DEFAULT_SCHEMA } from '../options.js'

// Never change these: a renamed table makes every migration run again.
export const MIGRATION_TABLE = 'default_deny_migration'
export const MIGRATION_LOCK_TABLE = 'default_deny_migration_lock'

function migrator (db: Kysely<any>, schema: string): Migrator {
  return new Migrator({
    db: db.withSchema(schema),
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
