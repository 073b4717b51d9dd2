import { type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// "What does this user own" (list filtering, listIds) read every row of the
// owner table without it; the route check finds the owner by its key instead.
// `if not exists`, so an operator can build it beforehand with
// `create index concurrently` under this name and not block writes.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('default_deny_resource_owner_idx').ifNotExists()
    .on('default_deny_resource').columns(['resource_type', 'owner_id']).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('default_deny_resource_owner_idx').execute()
}
