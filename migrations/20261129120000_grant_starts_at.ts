import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// Scheduled grants: a grant counts from `starts_at` (when set) until
// `expires_at` (when set). Both are enforced inside every query.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('default_deny_grant').addColumn('starts_at', 'timestamptz').execute()
  await db.schema.alterTable('default_deny_grant')
    .addCheckConstraint('default_deny_grant_schedule_check', sql`starts_at is null or expires_at is null or starts_at < expires_at`)
    .execute()
  // The purge of expired grants walks this index, not the whole table.
  await db.schema.createIndex('default_deny_grant_expires_idx').on('default_deny_grant').column('expires_at')
    .where(sql.ref('expires_at'), 'is not', null).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('default_deny_grant_expires_idx').execute()
  await db.schema.alterTable('default_deny_grant').dropConstraint('default_deny_grant_schedule_check').execute()
  await db.schema.alterTable('default_deny_grant').dropColumn('starts_at').execute()
}
