// A world like a real application's, seeded in SQL: users, groups, documents
// with owners, and about BENCH_GRANTS grants (1% type-level, 0.1% anonymous,
// 3% expiring), plus the benchmark user `u42` (token groups g7, g8) who may
// read about 3% of the documents: through its own grants (every 50th), its
// group g7 (every 100th, offset 1) and ownership (every 700th, offset 2).
import { sql, type Kysely } from 'kysely'

export const BENCH_USER = 'u42'
export const BENCH_GROUPS = ['g7', 'g8']

export interface WorldSize { grants: number, users: number, groups: number, documents: number }

export function worldSize (grants: number): WorldSize {
  return { grants, users: Math.max(100, grants / 10), groups: Math.max(10, grants / 100), documents: Math.max(200, grants / 5) }
}

/** Readable by the benchmark user: what the seed below grants it. */
export function readable (doc: number): boolean {
  return doc % 50 === 0 || doc % 100 === 1 || doc % 700 === 2
}

export async function seedWorld (db: Kysely<any>, schema: string, size: WorldSize): Promise<void> {
  const g = sql.id(schema, 'default_deny_grant')
  const r = sql.id(schema, 'default_deny_resource')
  const { users, groups, documents } = size
  const perKind = Math.floor(size.grants * 0.7)
  const perGroup = Math.floor(size.grants * 0.27)
  // Owners: document i belongs to one of the other users, except the
  // benchmark user's own documents, which are every 700th (offset 2).
  await sql`insert into ${r} (resource_type, resource_id, owner_id)
    select 'document', 'doc' || i, case when i % 700 = 2 then ${BENCH_USER} else 'u' || (100 + (i * 7) % (${users} - 100)) end
    from generate_series(0, ${documents - 1}) i`.execute(db)
  // User and group grants on documents, never to the benchmark principals
  // (their grants are below); 3% expiring, a third of those already expired.
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege, expires_at)
    select distinct on (u, d, p) 'user', u, 'document', d, p, e from (
      select 'u' || (100 + i % (${users} - 100)) u, 'doc' || ((i * 13) % ${documents}) d,
        (array['read', 'read', 'edit', 'delete'])[1 + i % 4] p,
        case when i % 99 = 0 then now() - interval '1 day' when i % 33 = 0 then now() + interval '1 day' end e
      from generate_series(0, ${perKind - 1}) i) s`.execute(db)
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select distinct on (gr, d, p) 'group', gr, 'document', d, p from (
      select 'g' || (10 + i % (${groups} - 10)) gr, 'doc' || ((i * 17) % ${documents}) d,
        (array['read', 'edit'])[1 + i % 2] p
      from generate_series(0, ${perGroup - 1}) i) s`.execute(db)
  // 1% type-level: on a hundred other types, and on documents for others.
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select distinct on (k, t, p) 'user', k, t, null, p from (
      select 'u' || (100 + i % (${users} - 100)) k, case when i % 10 = 0 then 'document' else 'type' || (i % 100) end t,
        (array['read', 'edit'])[1 + i % 2] p
      from generate_series(0, ${Math.floor(size.grants * 0.01) - 1}) i) s`.execute(db)
  // 0.1% anonymous, on public documents the benchmark never asks for (so
  // they do not change what it may read), but every check still probes them.
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select 'anonymous', '', 'document', 'pub' || i, 'read'
    from generate_series(0, ${Math.floor(size.grants * 0.001) - 1}) i`.execute(db)
  // The benchmark user's own grants and its group's.
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select 'user', ${BENCH_USER}, 'document', 'doc' || i, 'read' from generate_series(0, ${documents - 1}, 50) i`.execute(db)
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select 'group', ${BENCH_GROUPS[0]}, 'document', 'doc' || i, 'read' from generate_series(1, ${documents - 1}, 100) i`.execute(db)
  await settleWorld(db, schema)
}

/**
 * The world as a database in use has it: vacuumed and analyzed (seedWorld
 * ends with it; a benchmark that writes more after seeding calls it again). Freshly
 * inserted rows cost their first readers hint bits and a visit to the table
 * behind each index entry until (auto)vacuum marks their pages all-visible,
 * which would make whichever case ran first slower; the embedded database
 * runs no autovacuum at all.
 */
export async function settleWorld (db: Kysely<any>, schema: string): Promise<void> {
  for (const table of ['default_deny_grant', 'default_deny_resource', 'default_deny_membership', 'default_deny_membership_closure']) {
    await sql`vacuum (analyze) ${sql.id(schema, table)}`.execute(db)
  }
}
