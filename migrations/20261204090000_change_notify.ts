import { sql, type Kysely } from 'kysely'
import { changeChannel } from '../lib/store/channel.js'

// Frozen once released: change the schema with a new migration file.
// Every committed change of grants, owners or memberships is announced on
// the schema's channel (NOTIFY is delivered at commit, and not at all on
// rollback), whoever made it: the plugin, a migration, a psql session,
// another service. Instances with a decision cache listen and drop what the
// change may have made wrong. Statement-level triggers: one notification per
// statement, however many rows it touched.
//
// Payloads (JSON, under PostgreSQL's 8000-byte limit, else `{"all":true}`):
// - `{"r":[[type, id], ...]}`: the resources whose grants or owner changed;
//   an id of null is a type-level grant, which counts for the whole type;
// - `{"s":[[kind, id], ...]}`: the principals a membership change reaches:
//   each changed member and, for a group, every member below it;
// - `{"all":true}`: anything else (a truncate, a payload too large).
const LIMIT = 7900

// The schema the migrator runs in, as Kysely qualifies the plugin's tables:
// the functions name their tables with it (their search_path is pg_catalog
// only, so that nothing else can stand in for a table).
function names (db: Kysely<any>): { schema: string, q: (name: string) => string } {
  const compiled = db.selectFrom('default_deny_grant').selectAll().compile().sql
  const quoted = /from ("(?:[^"]|"")+")\."default_deny_grant"/.exec(compiled)?.[1] ?? '"public"'
  return { schema: quoted.slice(1, -1).replace(/""/g, '"'), q: (name) => `${quoted}."${name}"` }
}

const TABLES = ['default_deny_grant', 'default_deny_resource', 'default_deny_membership'] as const

// A trigger function that sets `payload` from the transition tables of the
// operation that fired (`added`, `removed`, or both for an update) and sends it.
function notifier (name: string, channel: string, payloadOf: (rows: string) => string): string {
  return `create function ${name} () returns trigger
  language plpgsql volatile set search_path = pg_catalog as $f$
  declare payload text;
  begin
    if tg_op = 'INSERT' then payload := ${payloadOf('added')};
    elsif tg_op = 'DELETE' then payload := ${payloadOf('removed')};
    else payload := ${payloadOf('(select * from added union all select * from removed)')};
    end if;
    if octet_length(payload) > ${LIMIT} then payload := '{"all":true}'; end if;
    perform pg_notify(${channel}, payload);
    return null;
  end
  $f$`
}

export async function up (db: Kysely<any>): Promise<void> {
  const { schema, q } = names(db)
  const channel = `'${changeChannel(schema).replace(/'/g, "''")}'`

  const resources = (rows: string) => `json_build_object('r', coalesce((select json_agg(json_build_array(resource_type, resource_id))
      from (select distinct resource_type, resource_id from ${rows} x) c), '[]'::json))::text`
  await sql.raw(notifier(q('default_deny_notify_grants'), channel, resources)).execute(db)
  await createTriggers(db, q, 'default_deny_grant', 'default_deny_notify_grants')
  await sql.raw(notifier(q('default_deny_notify_owners'), channel, resources)).execute(db)
  await createTriggers(db, q, 'default_deny_resource', 'default_deny_notify_owners')

  // The members below a changed group member: the closure lists them (the
  // change itself only moves the group's own edges, never those below it).
  const reached = (rows: string) => `json_build_object('s', coalesce((select json_agg(json_build_array(kind, id)) from (
      select member_kind as kind, member_id::text as id from ${rows} x
      union
      select c.member_kind, c.member_id::text from ${q('default_deny_membership_closure')} c
        join ${rows} m on m.member_kind = 'group' and c.group_id = m.member_id
    ) s), '[]'::json))::text`
  await sql.raw(notifier(q('default_deny_notify_members'), channel, reached)).execute(db)
  await createTriggers(db, q, 'default_deny_membership', 'default_deny_notify_members')

  await sql.raw(`create function ${q('default_deny_notify_all')} () returns trigger
  language plpgsql volatile set search_path = pg_catalog as $f$
  begin
    perform pg_notify(${channel}, '{"all":true}');
    return null;
  end
  $f$`).execute(db)
  for (const table of TABLES) {
    await sql.raw(`create trigger default_deny_notify_truncated after truncate on ${q(table)}
      for each statement execute function ${q('default_deny_notify_all')}()`).execute(db)
  }
}

async function createTriggers (db: Kysely<any>, q: (name: string) => string, table: string, fn: string): Promise<void> {
  for (const [trigger, event, referencing] of [
    ['inserted', 'insert', 'new table as added'],
    ['deleted', 'delete', 'old table as removed'],
    ['updated', 'update', 'old table as removed new table as added']
  ]) {
    await sql.raw(`create trigger default_deny_notify_${trigger} after ${event} on ${q(table)}
      referencing ${referencing} for each statement execute function ${q(fn)}()`).execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  const { q } = names(db)
  for (const table of TABLES) {
    for (const trigger of ['inserted', 'deleted', 'updated', 'truncated']) {
      await sql.raw(`drop trigger default_deny_notify_${trigger} on ${q(table)}`).execute(db)
    }
  }
  for (const fn of ['grants', 'owners', 'members', 'all']) {
    await sql.raw(`drop function ${q(`default_deny_notify_${fn}`)}()`).execute(db)
  }
}
