import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// The index every check probes, made covering, so that a probe reads the
// index alone (once vacuum has marked the table's pages all-visible) rather
// than visiting a heap page for each entry it tests: the grants' key,
// (resource type and id, grantee, privilege), now carries `starts_at` and
// `expires_at`, so whether a grant is in effect is read from the entry. It
// replaces the unique constraint `default_deny_grant_unique` with a unique
// index of the same columns (NULLS NOT DISTINCT still keeps type-level
// grants idempotent): a write still maintains one index for it, and nothing
// names the constraint.
//
// The closure's primary key is left as it is: carrying the edges too, it
// became an index-only scan of every path in descendant order, which the
// embedded database's planner chose for a list page over the ancestor
// index's ranges (200 times slower).
//
// `if not exists`: an operator can build the index beforehand with
// `create unique index concurrently` under this name and columns, and not
// block writes; the migration then only drops the constraint.

function qualify (db: Kysely<any>): (name: string) => string {
  const compiled = db.selectFrom('default_deny_grant').selectAll().compile().sql
  const schema = /from ("(?:[^"]|"")+")\."default_deny_grant"/.exec(compiled)?.[1] ?? '"public"'
  return (name) => `${schema}."${name}"`
}

const GRANT_KEY = '(resource_type, resource_id, principal_kind, principal_id, privilege)'

export async function up (db: Kysely<any>): Promise<void> {
  const q = qualify(db)
  await sql.raw(`create unique index if not exists default_deny_grant_key on ${q('default_deny_grant')} ${GRANT_KEY}
    include (starts_at, expires_at) nulls not distinct`).execute(db)
  await sql.raw(`alter table ${q('default_deny_grant')} drop constraint if exists default_deny_grant_unique`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const q = qualify(db)
  await sql.raw(`alter table ${q('default_deny_grant')} add constraint default_deny_grant_unique unique nulls not distinct ${GRANT_KEY}`).execute(db)
  await sql.raw(`drop index ${q('default_deny_grant_key')}`).execute(db)
}
