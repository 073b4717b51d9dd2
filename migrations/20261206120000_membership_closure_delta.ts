import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// The closure of group memberships, kept at the cost of what a change
// changes. The first version recomputed every member below a changed member
// with a recursive walk whose rows were (member, group, distance): UNION
// kept one row per distance at which a group is reached, so groups that are
// members of each other made every change walk every member to the full
// depth (300 users below 12 such groups: seconds per change). Now:
// - the groups below the change are walked breadth first, each (group,
//   group) pair found once, at its shortest distance;
// - a user's distances follow from its own groups' (a user is never a
//   group), so only the users in a group whose distances changed, and only
//   for those pairs, are settled again;
// - rows are written only where they differ (no UPDATE: the least-privilege
//   role inserts and deletes closure rows only);
// - a change made through the plugin is refused past the number of pairs it
//   names in a transaction-local setting, counted before the users' part.

/** Longest chain of memberships the closure records: the `groupDepth` option's maximum. */
const MAX_DEPTH = 32

/** The SQLSTATE of a change over its limit; lib/store/members.ts answers it with FST_DEFAULT_DENY_MEMBERSHIP_LIMIT. */
const LIMIT_ERRCODE = 'DD001'

function qualify (db: Kysely<any>): (name: string) => string {
  const compiled = db.selectFrom('default_deny_membership').selectAll().compile().sql
  const schema = /from ("(?:[^"]|"")+")\."default_deny_membership"/.exec(compiled)?.[1] ?? '"public"'
  return (name) => `${schema}."${name}"`
}

// The key of the lock every change takes, the first version's too: a change
// never computes from another's half-made state, nor counts against its
// limit what another is about to write.
function literal (value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

export async function up (db: Kysely<any>): Promise<void> {
  const name = qualify(db)
  const closure = name('default_deny_membership_closure')
  const membership = name('default_deny_membership')
  // Who is below a group: the change's own affected set, the limit's count
  // and the change notification all look members up by group.
  await sql.raw(`create index default_deny_membership_closure_group_idx on ${closure} (group_id, member_kind, member_id) include (distance)`).execute(db)
  // No JIT: a probe of a group that holds every user is estimated at the
  // whole table, which crossed jit_above_cost, and compiling took half a
  // second of a change whose statements read a few rows each.
  await sql.raw(`create or replace function ${name('default_deny_membership_recompute')} (kinds text[], ids text[]) returns void
  language plpgsql volatile set search_path = pg_catalog set jit = off as $f$
  declare
    groups text[];
    users text[];
    sa text[]; sb text[]; sd int[];
    fa text[]; fb text[];
    da text[]; db text[];
    pu text[]; pb text[]; pd int[];
    depth int := 1;
    most int := nullif(current_setting('fastify_default_deny.max_membership_change', true), '')::int;
    reached bigint;
  begin
    if current_setting('transaction_isolation') = 'repeatable read' then
      raise exception 'fastify-default-deny: change group memberships under read committed or serializable isolation'
        using errcode = '0A000';
    end if;
    perform pg_advisory_xact_lock(hashtextextended(${literal(`fastify-default-deny/membership/${name('')}`)}, 0));
    -- The changed group members and every group below them (from the closure
    -- as it was: who reaches a member does not depend on the member's own
    -- memberships); the users whose own memberships changed. Every probe of
    -- a table here is a lateral subquery kept apart by OFFSET 0: the closure
    -- grows through this function between statistics, and planned on stale
    -- ones a join would read the whole table instead of a few keys.
    select array_agg(distinct g) filter (where g is not null), array_agg(distinct u) filter (where u is not null) into groups, users from (
      select s.id as g, null as u from unnest(kinds, ids) s(kind, id) where s.kind = 'group'
      union all
      select c.member_id, null from unnest(kinds, ids) s(kind, id)
        cross join lateral (select member_id from ${closure}
          where group_id = s.id collate "C" and member_kind = 'group' offset 0) c
        where s.kind = 'group'
      union all
      select null, s.id from unnest(kinds, ids) s(kind, id) where s.kind = 'user'
    ) changed;

    if groups is not null then
      -- Breadth first from every affected group at once: a level adds only
      -- the pairs no earlier level found, so each pair comes once, at its
      -- shortest distance, and the walk ends when a level adds nothing.
      select array_agg(m.member_id), array_agg(m.group_id) into fa, fb from unnest(groups) g(id)
        cross join lateral (select member_id, group_id from ${membership}
          where member_kind = 'group' and member_id = g.id collate "C" offset 0) m;
      sa := coalesce(fa, '{}'); sb := coalesce(fb, '{}'); sd := array_fill(1, array[cardinality(sa)]);
      while fa is not null and depth < ${MAX_DEPTH} loop
        depth := depth + 1;
        select array_agg(n.a), array_agg(n.b) into fa, fb from (
          select f.a, m.group_id as b from unnest(fa, fb) f(a, b)
            cross join lateral (select group_id from ${membership}
              where member_kind = 'group' and member_id = f.b collate "C" offset 0) m
          except
          select s.a, s.b from unnest(sa, sb) s(a, b)
        ) n;
        exit when fa is null;
        sa := sa || fa; sb := sb || fb; sd := sd || array_fill(depth, array[cardinality(fa)]);
      end loop;
      -- Write the difference only, and keep the pairs that changed.
      with old as (
        select o.ctid as t, o.member_id as a, o.group_id as b, o.distance as d from unnest(groups) g(id)
          cross join lateral (select ctid, member_id, group_id, distance from ${closure}
            where member_kind = 'group' and member_id = g.id collate "C" offset 0) o
      ), stale as (
        select old.t from old join (select a, b, d from old except select * from unnest(sa, sb, sd)) x
          on old.a = x.a and old.b = x.b
      ), gone as (
        delete from ${closure} where ctid = any(array(select t from stale))
        returning member_id, group_id
      ) select array_agg(member_id), array_agg(group_id) into da, db from gone;
      with came as (
        insert into ${closure} (member_kind, member_id, group_id, distance)
        select 'group', n.a, n.b, n.d from unnest(sa, sb, sd) n(a, b, d)
          where not exists (select 1 from ${closure}
            where member_kind = 'group' and member_id = n.a collate "C" and group_id = n.b collate "C" offset 0)
        returning member_id, group_id
      ) select coalesce(da, '{}') || array_agg(member_id), coalesce(db, '{}') || array_agg(group_id) into da, db from came;
      -- A pair whose distance changed went and came: count it once.
      select array_agg(d.a), array_agg(d.b) into da, db from (select distinct a, b from unnest(da, db) u(a, b)) d;
    end if;

    -- A change through the plugin names its limit on the pairs one change
    -- may settle (see the plugin's maxMembershipChange option); plain SQL
    -- names none. Counted before the users' pairs are read: each changed
    -- (group, group) pair brings the users directly in that group along.
    if most is not null and da is not null then
      select coalesce(cardinality(da), 0) + coalesce(sum(n.c), 0) into reached from unnest(da) d(a)
        cross join lateral (select count(*) as c from (select 1 from ${membership}
          where group_id = d.a collate "C" and member_kind = 'user' limit most + 1 offset 0) x) n;
      if reached > most then
        raise exception 'fastify-default-deny: a membership change may reach at most % member-group pairs', most
          using errcode = '${LIMIT_ERRCODE}';
      end if;
    end if;

    if users is null and da is null then return; end if;

    -- The users' pairs to settle: every pair of a user whose own memberships
    -- changed, and each changed (group, group) pair for the users directly
    -- in that group. A pair's distance is one more than the nearest of the
    -- user's own groups' (null: no longer reached).
    select array_agg(p.u), array_agg(p.b), array_agg(n.d) into pu, pb, pd from (
      select c.member_id as u, c.group_id as b from unnest(users) x(u)
        cross join lateral (select member_id, group_id from ${closure}
          where member_kind = 'user' and member_id = x.u collate "C" offset 0) c
      union
      select m.member_id, m.group_id from unnest(users) x(u)
        cross join lateral (select member_id, group_id from ${membership}
          where member_kind = 'user' and member_id = x.u collate "C" offset 0) m
      union
      select m.member_id, c.group_id from unnest(users) x(u)
        cross join lateral (select member_id, group_id from ${membership}
          where member_kind = 'user' and member_id = x.u collate "C" offset 0) m
        cross join lateral (select group_id from ${closure}
          where member_kind = 'group' and member_id = m.group_id and distance < ${MAX_DEPTH} offset 0) c
      union
      select m.member_id, d.b from unnest(da, db) d(a, b)
        cross join lateral (select member_id from ${membership}
          where group_id = d.a collate "C" and member_kind = 'user' offset 0) m
    ) p cross join lateral (
      select min(case when m.group_id = p.b then 1 else c.distance + 1 end) as d
      from (select group_id from ${membership} where member_kind = 'user' and member_id = p.u offset 0) m
        left join lateral (select distance from ${closure}
          where member_kind = 'group' and member_id = m.group_id and group_id = p.b offset 0) c on true
      where m.group_id = p.b or c.distance < ${MAX_DEPTH}
    ) n;
    if most is not null and coalesce(cardinality(da), 0) + coalesce(cardinality(pu), 0) > most then
      raise exception 'fastify-default-deny: a membership change may reach at most % member-group pairs', most
        using errcode = '${LIMIT_ERRCODE}';
    end if;
    delete from ${closure} where ctid = any(array(
      select c.t from unnest(pu, pb, pd) x(u, b, d)
        cross join lateral (select ctid as t, distance from ${closure}
          where member_kind = 'user' and member_id = x.u collate "C" and group_id = x.b collate "C" offset 0) c
        where c.distance is distinct from x.d));
    insert into ${closure} (member_kind, member_id, group_id, distance)
    select 'user', x.u, x.b, x.d from unnest(pu, pb, pd) x(u, b, d)
      where x.d is not null and not exists (select 1 from ${closure}
        where member_kind = 'user' and member_id = x.u collate "C" and group_id = x.b collate "C" offset 0);
  end
  $f$`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const name = qualify(db)
  const closure = name('default_deny_membership_closure')
  const membership = name('default_deny_membership')
  await sql.raw(`create or replace function ${name('default_deny_membership_recompute')} (kinds text[], ids text[]) returns void
  language plpgsql volatile set search_path = pg_catalog as $f$
  declare
    akinds text[];
    aids text[];
  begin
    if current_setting('transaction_isolation') = 'repeatable read' then
      raise exception 'fastify-default-deny: change group memberships under read committed or serializable isolation'
        using errcode = '0A000';
    end if;
    perform pg_advisory_xact_lock(hashtextextended(${literal(`fastify-default-deny/membership/${name('')}`)}, 0));
    select array_agg(kind), array_agg(id) into akinds, aids from (
      select s.kind, s.id collate "C" as id from unnest(kinds, ids) as s(kind, id)
      union
      select c.member_kind, c.member_id from ${closure} c
        join unnest(kinds, ids) as s(kind, id) on s.kind = 'group' and c.group_id = s.id collate "C"
    ) affected;
    delete from ${closure} c
      using unnest(akinds, aids) as a(kind, id)
      where c.member_kind = a.kind and c.member_id = a.id collate "C";
    insert into ${closure} (member_kind, member_id, group_id, distance)
    with recursive walk(kind, id, group_id, distance) as (
      select m.member_kind, m.member_id, m.group_id, 1 from ${membership} m
        join unnest(akinds, aids) as a(kind, id) on m.member_kind = a.kind and m.member_id = a.id collate "C"
      union
      select w.kind, w.id, m.group_id, w.distance + 1 from walk w
        join ${membership} m on m.member_kind = 'group' and m.member_id = w.group_id
        where w.distance < ${MAX_DEPTH}
    )
    select kind, id, group_id, min(distance) from walk group by kind, id, group_id;
  end
  $f$`).execute(db)
  await sql.raw(`drop index ${name('default_deny_membership_closure_group_idx')}`).execute(db)
}
