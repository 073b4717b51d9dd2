// The one query of the security self-check: who the plugin's connection is
// and what that role may do, in one round trip, read from the catalogs (no
// table of the plugin is touched, so it runs before migrations too).
import { sql, type Kysely } from 'kysely'
import type { DatabaseFacts } from '../security/facts.js'
import { onTarget } from './predicates.js'
import type { DefaultDenyDatabase } from './schema.js'

interface Row {
  role: string
  superuser: boolean
  attributes: string[]
  owns_tables: boolean
  audit_writable: boolean
  schema_create: boolean
  tls: boolean | null
  server_address: string | null
  version: string
}

// PGlite reports the compiler of its WebAssembly build.
const EMBEDDED_BUILD = /emscripten|emcc|wasm/i

export async function readDatabaseFacts (db: Kysely<any>, schema: string): Promise<DatabaseFacts> {
  const { rows } = await sql<Row>`
    select current_user as role,
      r.rolsuper as superuser,
      array_remove(array[
        case when r.rolcreaterole then 'createrole' end,
        case when r.rolcreatedb then 'createdb' end,
        case when r.rolbypassrls then 'bypassrls' end,
        case when r.rolreplication then 'replication' end
      ]::text[], null) as attributes,
      exists (
        select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema}
          and c.relname in ('default_deny_grant', 'default_deny_resource', 'default_deny_membership', 'default_deny_membership_closure', 'default_deny_resource_ancestor', 'default_deny_audit')
          and pg_has_role(c.relowner, 'USAGE')
      ) as owns_tables,
      coalesce((
        select has_table_privilege(c.oid, 'UPDATE') or has_table_privilege(c.oid, 'DELETE') or has_table_privilege(c.oid, 'TRUNCATE')
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relname = 'default_deny_audit'
      ), false) as audit_writable,
      coalesce((select has_schema_privilege(n.oid, 'CREATE') from pg_namespace n where n.nspname = ${schema}), false) as schema_create,
      (select s.ssl from pg_stat_ssl s where s.pid = pg_backend_pid()) as tls,
      host(inet_server_addr()) as server_address,
      version() as version
    from pg_roles r
    where r.rolname = current_user`.execute(db)
  const row = rows[0]
  if (row === undefined) throw new Error('the current role is not in pg_roles')
  return {
    role: row.role,
    superuser: row.superuser,
    attributes: row.attributes,
    ownsTables: row.owns_tables,
    auditWritable: row.audit_writable,
    schemaCreate: row.schema_create,
    tls: row.tls,
    serverAddress: row.server_address,
    embedded: EMBEDDED_BUILD.test(row.version)
  }
}

/**
 * Of `types`, those with a type-level grant stored: what the
 * `typeLevelGrants` option forbids writing but a plain SQL insert, or a grant
 * from before the option was set, may have left behind. One lookup per type,
 * through the rows-on-a-target predicate the grant listings use.
 */
export async function readForbiddenTypeLevel (db: Kysely<any>, schema: string, types: readonly string[]): Promise<string[]> {
  const scoped = (db as Kysely<DefaultDenyDatabase>).withSchema(schema)
  const stored: string[] = []
  for (const resource of [...types].sort()) {
    const row = await scoped.selectFrom('default_deny_grant').select('resource_type')
      .where((eb) => onTarget(eb, { resource, id: null })).limit(1).executeTakeFirst()
    if (row !== undefined) stored.push(resource)
  }
  return stored
}
