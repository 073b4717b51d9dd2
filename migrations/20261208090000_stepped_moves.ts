import { sql, type Kysely } from 'kysely'
import { reparentFunction } from './20261207090000_resource_hierarchy.js'

// Frozen once released: change the schema with a new migration file.
// Moves of large subtrees in steps. Rewriting the closure of a subtree of
// ten thousand resources is one long transaction; on the embedded database,
// which has one connection, every request waits behind it. A move may now
// rewrite only the moved resource's own paths in its transaction and leave
// the paths of the resources below it to steps, each its own short
// transaction, with requests served in between.
//
// While steps remain, a resource not yet reached still has its paths from
// before the move: every answer in between is one the tree gave before the
// move or gives after it, never one neither gives. The moved resource is
// recorded in `default_deny_resource_move` until its last step, and any
// other change of the tree first finishes what is recorded (a cycle test
// reads paths, and must read whole ones); so does the plugin's start.
//
// The rewrite of one resource below the moved one is the same whether it
// runs in a step or at once: it keeps its paths up to the moved resource and
// takes the moved resource's paths above, so the row trigger now uses the
// step function for the whole subtree too.

const MAX_DEPTH = 64
const CYCLE_ERRCODE = 'DD002'
const DEPTH_ERRCODE = 'DD003'

/** The setting a transaction turns on (set_config, local) to leave the subtree of its move to steps. */
export const DEFER_SETTING = 'fastify_default_deny.defer_subtree'

function qualify (db: Kysely<any>): { q: (name: string) => string, schema: string } {
  const compiled = db.selectFrom('default_deny_resource').selectAll().compile().sql
  const quoted = /from ("(?:[^"]|"")+")\."default_deny_resource"/.exec(compiled)?.[1] ?? '"public"'
  return { q: (name) => `${quoted}."${name}"`, schema: quoted }
}

const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`

export async function up (db: Kysely<any>): Promise<void> {
  const { q, schema } = qualify(db)
  const closure = q('default_deny_resource_ancestor')
  const moves = q('default_deny_resource_move')
  const step = q('default_deny_resource_move_step')
  const settle = q('default_deny_resource_settle')
  const lock = `perform pg_advisory_xact_lock(hashtextextended(${literal(`fastify-default-deny/hierarchy/${schema}`)}, 0));`

  await sql.raw(`create table ${moves} (
    resource_type text collate "C" not null,
    resource_id text collate "C" not null,
    constraint default_deny_resource_move_pkey primary key (resource_type, resource_id)
  )`).execute(db)

  // Rewrites the paths above (mtype, mid) of the resources below it, in key
  // order after (after_type, after_id), at most `lim` of them (null: all).
  // Returns the last one rewritten, or null once none is left (the move is
  // then no longer recorded).
  await sql.raw(`create function ${step} (mtype text, mid text, after_type text, after_id text, lim int) returns text[]
  language plpgsql volatile set search_path = pg_catalog set jit = off as $f$
  declare
    n int; lt text; li text;
  begin
    ${lock}
    select count(*)::int, (array_agg(t order by t desc, i desc))[1], (array_agg(i order by t desc, i desc))[1] into n, lt, li
      from (select descendant_type as t, descendant_id as i from ${closure}
        where ancestor_type = mtype and ancestor_id = mid
          and (descendant_type, descendant_id) > (coalesce(after_type, ''), coalesce(after_id, ''))
        order by descendant_type, descendant_id limit lim) s;
    if n > 0 then
      -- Each keeps its paths up to the moved resource (depth at most its
      -- distance to it) and loses those above ...
      delete from ${closure} c using ${closure} b
        where b.ancestor_type = mtype and b.ancestor_id = mid
          and (b.descendant_type, b.descendant_id) > (coalesce(after_type, ''), coalesce(after_id, ''))
          and (b.descendant_type, b.descendant_id) <= (lt, li)
          and c.descendant_type = b.descendant_type and c.descendant_id = b.descendant_id and c.depth > b.depth;
      -- ... and gains the moved resource's paths, extended by its own.
      insert into ${closure} (descendant_type, descendant_id, ancestor_type, ancestor_id, depth, edges)
      select b.descendant_type, b.descendant_id, a.ancestor_type, a.ancestor_id, b.depth + a.depth, b.edges || a.edges
        from ${closure} b cross join (select ancestor_type, ancestor_id, depth, edges from ${closure}
          where descendant_type = mtype and descendant_id = mid) a
        where b.ancestor_type = mtype and b.ancestor_id = mid
          and (b.descendant_type, b.descendant_id) > (coalesce(after_type, ''), coalesce(after_id, ''))
          and (b.descendant_type, b.descendant_id) <= (lt, li);
    end if;
    if lim is null or n < lim then
      delete from ${moves} where resource_type = mtype and resource_id = mid;
      -- The end of a recorded move is announced again (the resource table's
      -- change notification): a cache elsewhere may have kept, between the
      -- steps, an answer about a resource below that no step had reached yet.
      if found then
        update ${q('default_deny_resource')} set parent_type = parent_type where resource_type = mtype and resource_id = mid;
      end if;
      return null;
    end if;
    return array[lt, li];
  end
  $f$`).execute(db)

  // Finishes every move still recorded: what a change of the tree, and the
  // plugin's start, do first.
  await sql.raw(`create function ${settle} () returns int
  language plpgsql volatile set search_path = pg_catalog as $f$
  declare
    m record; n int := 0;
  begin
    ${lock}
    for m in select resource_type, resource_id from ${moves} order by resource_type, resource_id loop
      perform ${step}(m.resource_type, m.resource_id, null, null, null);
      n := n + 1;
    end loop;
    return n;
  end
  $f$`).execute(db)

  await sql.raw(`create or replace function ${q('default_deny_resource_reparent')} () returns trigger
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
    -- One change of the tree at a time, on whole paths: two moves that each
    -- look fine alone (a under b, b under a) would otherwise commit a cycle.
    ${lock}
    if exists (select 1 from ${moves}) then perform ${settle}(); end if;
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
    -- The resource's own paths: the new parent's, one edge longer.
    delete from ${closure} where descendant_type = ctype and descendant_id = cid;
    if ptype is not null then
      insert into ${closure} (descendant_type, descendant_id, ancestor_type, ancestor_id, depth, edges)
      select ctype, cid, ptype, pid, 1, array[ctype || '>' || ptype]
      union all select ctype, cid, ancestor_type, ancestor_id, depth + 1, array[ctype || '>' || ptype] || edges from ${closure}
        where descendant_type = ptype and descendant_id = pid;
    end if;
    -- Those of the resources below it: now, or in the mover's steps.
    if tg_op <> 'DELETE' and current_setting('${DEFER_SETTING}', true) = 'on' then
      if exists (select 1 from ${closure} where ancestor_type = ctype and ancestor_id = cid) then
        insert into ${moves} (resource_type, resource_id) values (ctype, cid) on conflict do nothing;
      end if;
    else
      perform ${step}(ctype, cid, null, null, null);
    end if;
    return null;
  end
  $f$`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const { q, schema } = qualify(db)
  await sql.raw(`select ${q('default_deny_resource_settle')}()`).execute(db)
  await sql.raw(reparentFunction(q, schema)).execute(db)
  await sql.raw(`drop function ${q('default_deny_resource_settle')}()`).execute(db)
  await sql.raw(`drop function ${q('default_deny_resource_move_step')}(text, text, text, text, int)`).execute(db)
  await sql.raw(`drop table ${q('default_deny_resource_move')}`).execute(db)
}
