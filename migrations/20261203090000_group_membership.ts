import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// Groups stored in the database: a user or a group is a member of a group.
// A principal's groups are its token's groups plus every group reachable
// from it (or from them) through these rows.
const id = sql`text collate "C"`

/** Longest chain of memberships the closure records: the `groupDepth` option's maximum. */
const MAX_DEPTH = 32

// The schema the migrator runs in, as Kysely qualifies the plugin's tables:
// the trigger functions name their tables with it (their search_path is
// pg_catalog only, so that nothing else can stand in for a table).
function qualify (db: Kysely<any>): (name: string) => string {
  const compiled = db.selectFrom('default_deny_membership').selectAll().compile().sql
  const schema = /from ("(?:[^"]|"")+")\."default_deny_membership"/.exec(compiled)?.[1] ?? '"public"'
  return (name) => `${schema}."${name}"`
}

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createTable('default_deny_membership')
    .addColumn('group_id', id, (col) => col.notNull())
    .addColumn('member_kind', 'text', (col) => col.notNull())
    .addColumn('member_id', id, (col) => col.notNull())
    .addColumn('added_by', id)
    .addColumn('added_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('default_deny_membership_member_check', sql`
      member_kind in ('user', 'group') and member_id <> '' and group_id <> ''
      and not (member_kind = 'group' and member_id = group_id)`)
    // Member first: climbing from a member to its groups.
    .addPrimaryKeyConstraint('default_deny_membership_pkey', ['member_kind', 'member_id', 'group_id'])
    .execute()
  // Listing a group's members.
  await db.schema.createIndex('default_deny_membership_group_idx')
    .on('default_deny_membership').columns(['group_id', 'member_kind', 'member_id']).execute()

  // The closure: for every member, every group it reaches and in how few
  // steps (up to 32). The check reads a principal's groups from it in one
  // index range instead of walking the memberships level by level. Triggers
  // keep it exact on every change, from the plugin or from plain SQL.
  const name = qualify(db)
  const q = (table: string) => sql.raw(name(table))
  await sql`create table ${q('default_deny_membership_closure')} (
    member_kind text not null,
    member_id text collate "C" not null,
    group_id text collate "C" not null,
    distance int not null,
    constraint default_deny_membership_closure_pkey primary key (member_kind, member_id, group_id) include (distance)
  )`.execute(db)
  // Recomputes the closure of the given members and of every member below
  // them (whose chains may run through them), from the memberships as they
  // now are. Changes take one lock, so two of them never compute from each
  // other's half-made state; each statement here reads what the one before
  // committed, which repeatable read would not: it is refused there.
  await sql`create function ${q('default_deny_membership_recompute')} (kinds text[], ids text[]) returns void
  language plpgsql volatile set search_path = pg_catalog as $f$
  declare
    akinds text[];
    aids text[];
  begin
    if current_setting('transaction_isolation') = 'repeatable read' then
      raise exception 'fastify-default-deny: change group memberships under read committed or serializable isolation'
        using errcode = '0A000';
    end if;
    perform pg_advisory_xact_lock(hashtextextended(${sql.lit(`fastify-default-deny/membership/${name('')}`)}, 0));
    select array_agg(kind), array_agg(id) into akinds, aids from (
      select s.kind, s.id collate "C" as id from unnest(kinds, ids) as s(kind, id)
      union
      select c.member_kind, c.member_id from ${q('default_deny_membership_closure')} c
        join unnest(kinds, ids) as s(kind, id) on s.kind = 'group' and c.group_id = s.id collate "C"
    ) affected;
    delete from ${q('default_deny_membership_closure')} c
      using unnest(akinds, aids) as a(kind, id)
      where c.member_kind = a.kind and c.member_id = a.id collate "C";
    insert into ${q('default_deny_membership_closure')} (member_kind, member_id, group_id, distance)
    with recursive walk(kind, id, group_id, distance) as (
      select m.member_kind, m.member_id, m.group_id, 1 from ${q('default_deny_membership')} m
        join unnest(akinds, aids) as a(kind, id) on m.member_kind = a.kind and m.member_id = a.id collate "C"
      union
      select w.kind, w.id, m.group_id, w.distance + 1 from walk w
        join ${q('default_deny_membership')} m on m.member_kind = 'group' and m.member_id = w.group_id
        where w.distance < ${sql.lit(MAX_DEPTH)}
    )
    select kind, id, group_id, min(distance) from walk group by kind, id, group_id;
  end
  $f$`.execute(db)
  await sql`create function ${q('default_deny_membership_changed')} () returns trigger
  language plpgsql volatile set search_path = pg_catalog as $f$
  begin
    if tg_op = 'INSERT' then
      perform ${q('default_deny_membership_recompute')}(array(select member_kind from added), array(select member_id::text from added));
    elsif tg_op = 'DELETE' then
      perform ${q('default_deny_membership_recompute')}(array(select member_kind from removed), array(select member_id::text from removed));
    end if;
    return null;
  end
  $f$`.execute(db)
  await sql`create function ${q('default_deny_membership_updated')} () returns trigger
  language plpgsql volatile set search_path = pg_catalog as $f$
  begin
    perform ${q('default_deny_membership_recompute')}(
      array(select member_kind from removed union all select member_kind from added),
      array(select member_id::text from removed union all select member_id::text from added));
    return null;
  end
  $f$`.execute(db)
  const table = q('default_deny_membership')
  await sql`create trigger default_deny_membership_inserted after insert on ${table}
    referencing new table as added for each statement execute function ${q('default_deny_membership_changed')}()`.execute(db)
  await sql`create trigger default_deny_membership_deleted after delete on ${table}
    referencing old table as removed for each statement execute function ${q('default_deny_membership_changed')}()`.execute(db)
  await sql`create trigger default_deny_membership_updated after update on ${table}
    referencing old table as removed new table as added for each statement execute function ${q('default_deny_membership_updated')}()`.execute(db)
  await sql`create function ${q('default_deny_membership_emptied')} () returns trigger
  language plpgsql volatile set search_path = pg_catalog as $f$
  begin
    truncate ${q('default_deny_membership_closure')};
    return null;
  end
  $f$`.execute(db)
  await sql`create trigger default_deny_membership_truncated after truncate on ${table}
    for each statement execute function ${q('default_deny_membership_emptied')}()`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const name = qualify(db)
  const q = (table: string) => sql.raw(name(table))
  await db.schema.dropTable('default_deny_membership').execute()
  await sql`drop function ${q('default_deny_membership_emptied')}()`.execute(db)
  await sql`drop function ${q('default_deny_membership_changed')}()`.execute(db)
  await sql`drop function ${q('default_deny_membership_updated')}()`.execute(db)
  await sql`drop function ${q('default_deny_membership_recompute')}(text[], text[])`.execute(db)
  await db.schema.dropTable('default_deny_membership_closure').execute()
}
