import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// "C" collation makes comparisons byte-exact and literal (Alice ≠ alice).
const id = sql`text collate "C"`

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createTable('default_deny_grant')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('principal_kind', 'text', (col) => col.notNull())
    .addColumn('principal_id', id, (col) => col.notNull())
    .addColumn('resource_type', id, (col) => col.notNull())
    .addColumn('resource_id', id)
    .addColumn('privilege', id, (col) => col.notNull())
    .addColumn('granted_by', id)
    .addColumn('granted_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .addCheckConstraint('default_deny_grant_principal_check', sql`
      (principal_kind = 'anonymous' and principal_id = '')
      or (principal_kind in ('user', 'group') and principal_id <> '')`)
    .addCheckConstraint('default_deny_grant_resource_check',
      sql`resource_type <> '' and (resource_id is null or resource_id <> '') and privilege <> ''`)
    // NULLS NOT DISTINCT (PostgreSQL 15+) keeps type-level grants (resource_id NULL) idempotent too.
    .addUniqueConstraint('default_deny_grant_unique',
      ['resource_type', 'resource_id', 'principal_kind', 'principal_id', 'privilege'],
      (constraint) => constraint.nullsNotDistinct())
    .execute()

  // The unique constraint's index serves the check query (type, id, principal);
  // this one serves "everything a principal holds".
  await db.schema.createIndex('default_deny_grant_principal_idx')
    .on('default_deny_grant')
    .columns(['principal_kind', 'principal_id'])
    .execute()

  await db.schema.createTable('default_deny_resource')
    .addColumn('resource_type', id, (col) => col.notNull())
    .addColumn('resource_id', id, (col) => col.notNull())
    .addColumn('owner_id', id)
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('default_deny_resource_pkey', ['resource_type', 'resource_id'])
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('default_deny_resource').execute()
  await db.schema.dropTable('default_deny_grant').execute()
}
