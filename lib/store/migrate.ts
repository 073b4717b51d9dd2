import { Migrator, type Kysely } from 'kysely'
import type { MigrateOptions } from '../../fastify-plugin.js'
import { migrations } from '../../migrations/index.js'
import { codes } from '../errors.js'
import { DEFAULT_SCHEMA } from '../options.js'

// Never change these: a renamed table makes every migration run again.
export const MIGRATION_TABLE = 'default_deny_migration'
export const MIGRATION_LOCK_TABLE = 'default_deny_migration_lock'


/** Returns the names of the migrations that ran; throws a coded error on failure. */
export async function runMigrations (db: Kysely<any>, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? DEFAULT_SCHEMA
  const migrator = new Migrator({
    db: db.withSchema(schema),
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    migrationTableSchema: schema
  })
  const { error, results } = options.direction === 'down'
    ? await migrator.migrateDown()
    : await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'migrator'
    const err = new codes.FST_DEFAULT_DENY_MIGRATION_FAILED(failed)
    err.cause = error
    throw err
  }
  return (results ?? []).map((result) => result.migrationName)
}
