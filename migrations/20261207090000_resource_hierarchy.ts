import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// Resource hierarchies: a resource row may name one parent resource, and the
// closure of those edges is kept beside it, by triggers, so that whoever
// writes a parent (the plugin, a migration, a psql session) leaves the
// closure right, and every form of the check reads a resource's ancestors
// (or an ancestor's descendants) as one index range instead of a walk.
//
// A closure row says `ancestor` is `depth` levels above `descendant`;
// `edges` are the "child>parent" type pairs along the path, nearest first
// (the hierarchy option may stop some privileges at some edges). A move
// rewrites only the rows of the moved subtree that pass through it: the
// subtree's rows times the old and new ancestors.

/** Deepest path the closure accepts: the `hierarchy.maxDepth` option's maximum (the plugin refuses sooner). */
const MAX_DEPTH = 64

/** SQLSTATEs the service maps to its 4xx (it refuses before they are reached). */
const CYCLE_ERRCODE = 'DD002'
const DEPTH_ERRCODE = 'DD003'

function qualify (db: Kysely<any>): { q: (name: string) => string, schema: string } {
  const compiled = db.selectFrom('default_deny_resource').selectAll().compile().sql
  const quoted = /from ("(?:[^"]|"")+")\."default_deny_resource"/.exec(compiled)?.[1] ?? '"public"'
  return { q: (name) => `${quoted}."${name}"`, schema: quoted }
}

function literal (value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/**
 * The closure's row trigger as this migration defines it: what a later
 * migration that replaces it restores on the way down.
 */
export function reparentFunction (q: (name: string) => string, schema: string): string {
  const closure = q('default_deny_resource_ancestor')
  return `create or replace function ${q('default_deny_resource_reparent')} () returns trigger
  language plpgsql volatile set search_path = pg_catalog set jit = off as $f$
  declare
    ctype text; cid text; ptype text; pid text;
    below int; above int;
  begin
    if tg_op = 'DELETE' then
      if old.parent_type is null then return null; end if;
      ctype := old.resource_type; cid := old.resource_id;
    else
      if tg_op = 'UPDATE' and old.parent_type is not distinct from new.parent_type and old.parent_id is not distinct from new.parent_id
        and old.resource_type = new.resource_type and old.resource_id = new.resource_id then return null; end if;
      if tg_op = 'INSERT' and new.parent_type is null then return null; end if;
      if tg_op = 'UPDATE' and (old.resource_type <> new.resource_type or old.resource_id <> new.resource_id) then
        if old.parent_type is null and new.parent_type is null and not exists (select 1 from ${closure}
            where ancestor_type = old.resource_type and ancestor_id = old.resource_id) then return null; end if;
        raise exception 'fastify-default-deny: a resource in a hierarchy cannot change its type or id; forget it and record it again'
          using errcode = '0A000';
      end if;
      ctype := new.resource_type; cid := new.resource_id; ptype := new.parent_type; pid := new.parent_id;
    end if;
    if current_setting('transaction_isolation') = 'repeatable read' then
      raise exception 'fastify-default-deny: change resource parents under read committed or serializable isolation'
        using errcode = '0A000';
    end if;
    -- One change of the tree at a time: two moves that each look fine alone
    -- (a under b, b under a) would otherwise commit a cycle between them.
    perform pg_advisory_xact_lock(hashtextextended(${literal(`fastify-default-deny/hierarchy/${schema}`)}, 0));
    if ptype is not null then
      if exists (select 1 from ${closure} where descendant_type = ptype and descendant_id = pid
          and ancestor_type = ctype and ancestor_id = cid) then
        raise exception 'fastify-default-deny: % % cannot move under % %: it would be its own ancestor', ctype, cid, ptype, pid
          using errcode = '${CYCLE_ERRCODE}';
      end if;
      select coalesce(max(depth), 0) into below from ${closure} where ancestor_type = ctype and ancestor_id = cid;
      select coalesce(max(depth), 0) into above from ${closure} where descendant_type = ptype and descendant_id = pid;
      if below + 1 + above > ${MAX_DEPTH} then
        raise exception 'fastify-default-deny: a hierarchy may be at most % levels deep', ${MAX_DEPTH}
          using errcode = '${DEPTH_ERRCODE}';
      end if;
    end if;
    -- The subtree (the resource and what is below it) loses the paths through its old ancestors ...
    delete from ${closure} c
      where (c.descendant_type, c.descendant_id) in (
          select descendant_type, descendant_id from ${closure} where ancestor_type = ctype and ancestor_id = cid
          union all select ctype, cid)
        and (c.ancestor_type, c.ancestor_id) in (
          select ancestor_type, ancestor_id from ${closure} where descendant_type = ctype and descendant_id = cid);
    -- ... and gains those through the new parent and its ancestors.
    if ptype is not null then
      insert into ${closure} (descendant_type, descendant_id, ancestor_type, ancestor_id, depth, edges)
      select s.t, s.i, a.t, a.i, s.d + a.d, s.e || a.e from (
        select descendant_type as t, descendant_id as i, depth as d, edges as e from ${closure}
          where ancestor_type = ctype and ancestor_id = cid
        union all select ctype, cid, 0, '{}'::text[]
      ) s cross join (
        select ptype as t, pid as i, 1 as d, array[ctype || '>' || ptype] as e
        union all select ancestor_type, ancestor_id, depth + 1, array[ctype || '>' || ptype] || edges from ${closure}
          where descendant_type = ptype and descendant_id = pid
      ) a;
    end if;
    return null;
  end
  $f$`
}

export async function up (db: Kysely<any>): Promise<void> {
  const { q, schema } = qualify(db)
  const resource = q('default_deny_resource')
  const closure = q('default_deny_resource_ancestor')
  await sql.raw(`alter table ${resource}
    add column parent_type text collate "C",
    add column parent_id text collate "C",
    add constraint default_deny_resource_parent_check check (
      (parent_type is null) = (parent_id is null)
      and (parent_type is null or (parent_type <> '' and parent_id <> '' and (parent_type, parent_id) <> (resource_type, resource_id))))`).execute(db)
  // A resource's children, in (type, id) order: the keyset pages of `children`.
  await sql.raw(`create index default_deny_resource_parent_idx on ${resource} (parent_type, parent_id, resource_type, resource_id)
    where parent_type is not null`).execute(db)
  await sql.raw(`create table ${closure} (
    descendant_type text collate "C" not null,
    descendant_id text collate "C" not null,
    ancestor_type text collate "C" not null,
    ancestor_id text collate "C" not null,
    depth int not null check (depth between 1 and ${MAX_DEPTH}),
    edges text[] not null,
    constraint default_deny_resource_ancestor_pkey primary key (descendant_type, descendant_id, ancestor_type, ancestor_id)
  )`).execute(db)
  // The other direction: an ancestor's descendants of one type, in id order,
  // with the edges, from the index alone (what the lists read).
  await sql.raw(`create index default_deny_resource_ancestor_below_idx on ${closure}
    (ancestor_type, ancestor_id, descendant_type, descendant_id) include (edges)`).execute(db)

  await sql.raw(reparentFunction(q, schema)).execute(db)
  await sql.raw(`create trigger default_deny_resource_reparent after insert or delete or update of parent_type, parent_id, resource_type, resource_id
    on ${resource} for each row execute function ${q('default_deny_resource_reparent')}()`).execute(db)
  await sql.raw(`create function ${q('default_deny_resource_truncated')} () returns trigger
  language plpgsql volatile set search_path = pg_catalog as $f$
  begin
    truncate ${closure};
    return null;
  end
  $f$`).execute(db)
  await sql.raw(`create trigger default_deny_resource_truncated after truncate on ${resource}
    for each statement execute function ${q('default_deny_resource_truncated')}()`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const { q } = qualify(db)
  const resource = q('default_deny_resource')
  await sql.raw(`drop trigger default_deny_resource_truncated on ${resource}`).execute(db)
  await sql.raw(`drop function ${q('default_deny_resource_truncated')}()`).execute(db)
  await sql.raw(`drop trigger default_deny_resource_reparent on ${resource}`).execute(db)
  await sql.raw(`drop function ${q('default_deny_resource_reparent')}()`).execute(db)
  await sql.raw(`drop table ${q('default_deny_resource_ancestor')}`).execute(db)
  // A row that only recorded a parent has nothing left to say.
  await sql.raw(`delete from ${resource} where owner_id is null and parent_type is not null`).execute(db)
  await sql.raw(`drop index ${q('default_deny_resource_parent_idx')}`).execute(db)
  await sql.raw(`alter table ${resource} drop constraint default_deny_resource_parent_check,
    drop column parent_type, drop column parent_id`).execute(db)
}
