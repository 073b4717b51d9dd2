import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
const id = sql`text collate "C"`

export async function up (db: Kysely<any>): Promise<void> {
  // Append-only: the plugin inserts and reads, never updates or deletes.
  // Each row carries the hash of its predecessor, so an edit shows.
  await db.schema.createTable('default_deny_audit')
    .addColumn('seq', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('at', 'timestamptz', (col) => col.notNull())
    .addColumn('actor', id)
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('principal_kind', 'text')
    .addColumn('principal_id', id)
    .addColumn('resource_type', id, (col) => col.notNull())
    .addColumn('resource_id', id)
    .addColumn('before', 'jsonb', (col) => col.notNull())
    .addColumn('after', 'jsonb', (col) => col.notNull())
    .addColumn('request_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('prev_hash', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull().unique())
    .execute()
  await db.schema.createIndex('default_deny_audit_resource_idx')
    .on('default_deny_audit').columns(['resource_type', 'resource_id', 'seq']).execute()
  await db.schema.createIndex('default_deny_audit_principal_idx')
    .on('default_deny_audit').columns(['principal_kind', 'principal_id', 'seq']).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('default_deny_audit').execute()
}
