import { type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// List filtering and listIds ask "which resources of this type does this
// principal hold, or own". Both indexes below answer it from the index alone
// (once vacuum has marked the pages all-visible), in resource id order:
// without them a filtered page read every row of the owner table and one
// heap page per grant the principal holds. The grant index replaces
// `default_deny_grant_principal_idx`, which is its prefix.
// `if not exists`, so an operator can build them beforehand with
// `create index concurrently` under these names and not block writes.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('default_deny_resource_owner_idx').ifNotExists()
    .on('default_deny_resource').columns(['resource_type', 'owner_id', 'resource_id']).execute()
  await db.schema.createIndex('default_deny_grant_holder_idx').ifNotExists().on('default_deny_grant')
    .columns(['principal_kind', 'principal_id', 'resource_type', 'resource_id', 'privilege', 'expires_at', 'starts_at']).execute()
  await db.schema.dropIndex('default_deny_grant_principal_idx').ifExists().execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('default_deny_grant_principal_idx').ifNotExists()
    .on('default_deny_grant').columns(['principal_kind', 'principal_id']).execute()
  await db.schema.dropIndex('default_deny_grant_holder_idx').execute()
  await db.schema.dropIndex('default_deny_resource_owner_idx').execute()
}
