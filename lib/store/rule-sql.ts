// The rule of lib/decision/rule.ts as SQL: every statement and condition that
// decides who holds what is generated here from its GRANTEES, TARGETS and
// WAYS, so that none can drift from the others. Two parts: how each piece of
// the rule is spelled on the plugin's tables (the tables below, keyed by the
// rule's kinds, so a new kind does not compile until it is spelled), and how
// the pieces are arranged into statements whose plans are fast (one index
// range per probe, the first hit ending an EXISTS).
import { createHash } from 'node:crypto'
import type { RawBuilder, SqlBool } from 'kysely'
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import { GRANTEES, granteeApplies, TARGETS, targetApplies, WAYS, type GranteeRule, type TargetKind, type Way } from '../decision/rule.js'
import { bindText, groupsText, type GroupScope } from './predicates.js'

/**
 * Statements starting with this comment are sent as named prepared statements
 * by the pools the plugin builds (`postgresKysely`, `kyselyPool`): parsed and
 * planned once per connection, then only bound and executed.
 */
export const PREPARED_MARKER = '/* fastify-default-deny: prepared */'

// The parameters every form binds: `$1` type, `$2` id (ids, or the last id
// of the previous page), `$3` accepted privileges, `$4` user id (null for
// anonymous), `$5` the token's groups (to which the stored memberships add
// theirs), `$6` whether owners count, `$7` a page's size.
const USER = '$4'

/** SQL for the one id a probe asks about, or `null`: every id (the lists). */
type Ids = string | null

// How the rule's pieces are spelled on the tables.
const TARGET_SQL: Readonly<Record<TargetKind, (id: Ids) => string>> = {
  resource: (id) => id === null ? 'resource_id is not null' : `resource_id = ${id}`,
  type: () => 'resource_id is null'
}

function grantee (rule: GranteeRule, groups: string, holder: boolean): string {
  const kind = `principal_kind = '${rule.kind}'`
  switch (rule.names) {
    case 'user': return `${kind} and principal_id = ${USER}`
    case 'groups': return `${kind} and principal_id = any(${groups})`
    // Two spellings of the anonymous grantee: its stored id makes a list's
    // probe an index-only range of the holder index, while in the type-level
    // probe it makes the generic plan pick the wrong index.
    case 'everyone': return holder && rule.stored !== null ? `${kind} and principal_id = '${rule.stored}'` : kind
  }
}

const LIVE = '(expires_at is null or expires_at > now()) and (starts_at is null or starts_at <= now())'
const ACCEPTED = 'privilege = any($3::text[])'

function conditions (scope: GroupScope, groups = groupsText(scope, USER, '$5')) {
  const grant = `"${scope.schema}".default_deny_grant`
  // Inside one probe the alternative with no id to compare goes first: it costs nothing to test.
  const cheapFirst = [...GRANTEES].sort((a, b) => Number(a.names !== 'everyone') - Number(b.names !== 'everyone'))
  const held = `(${cheapFirst.map((rule) => `(${grantee(rule, groups, false)})`).join(' or ')})`
  const on = (kind: TargetKind, id: Ids) => `resource_type = $1 and ${TARGET_SQL[kind](id)}`
  return {
    /** One resource's grants: one index range (type, id, then the grantee alternatives). */
    any: (kind: TargetKind, id: Ids) => `select resource_id from ${grant} where ${on(kind, id)} and ${ACCEPTED} and ${held} and ${LIVE}`,
    /**
     * The same, one branch per grantee: for the many ids of a list (`holder`)
     * each branch is an index-only range of the holder index, where the `or`
     * would fetch every grant row from the heap; for a type, each branch one
     * short range.
     */
    each: (kind: TargetKind, id: Ids, holder: boolean) => GRANTEES
      .map((rule) => `select resource_id from ${grant} where ${grantee(rule, groups, holder)} and ${on(kind, id)} and ${ACCEPTED} and ${LIVE}`)
      .join('\n  union all '),
    owned: (id: Ids) => `select resource_id from "${scope.schema}".default_deny_resource where $6::boolean and resource_type = $1 and ${id === null ? 'true' : `resource_id = ${id}`} and owner_id = ${USER}`,
    /**
     * Milliseconds until the next scheduled change (a start or an expiry) of
     * a grant that counts or will count for the principal on `$2`; null when
     * none is scheduled. How long a cached answer may live. Arranged like the
     * check: one branch per way a grant counts and per grantee, each one
     * short range of the index the check's probe reads, so a miss costs what
     * the check costs. One condition ORing the targets and the grantees made
     * the planner walk every grant the principal holds.
     */
    nextChange: `select (extract(epoch from min(at) - now()) * 1000)::float8 from (\n    ${WAYS.filter((way) => way.kind === 'grant')
      .flatMap((way) => GRANTEES.map((rule) => `select case when starts_at > now() then starts_at else expires_at end from ${grant}
      where ${grantee(rule, groups, false)} and ${on(way.target.kind, '$2')} and ${ACCEPTED} and (starts_at > now() or expires_at > now())`))
      .join('\n    union all ')}\n  ) as scheduled(at)`
  }
}

type Conditions = ReturnType<typeof conditions>

// A way probed for one id (the route check, each id of checkMany).
function probe (c: Conditions, way: Way, id: string): string {
  if (way.kind === 'owner') return c.owned(id)
  return way.target.perId ? c.any(way.target.kind, id) : c.each(way.target.kind, id, false)
}

// The ways that do not depend on the id (one hit allows every id), and those
// that do, as ids (the lists).
const wide = (c: Conditions) => WAYS.filter((way) => !way.target.perId).map((way) => `(select exists (${probe(c, way, '$2')}))`)
const perId = (c: Conditions) => WAYS.filter((way) => way.target.perId)
  .map((way) => way.kind === 'owner' ? c.owned(null) : c.each(way.target.kind, null, true))

export interface CheckTexts {
  /** One resource (`$2`): the probes in order, stopping at the first hit. */
  one: string
  /** The route check and how long its answer holds, for the decision cache. */
  oneUntil: string
  /**
   * Many resources (`$2` an array of ids), one row each in the order given.
   * The wide probes do not depend on the id: PostgreSQL runs them once, and
   * when one hits, no id is probed at all.
   */
  many: string
  /**
   * A condition on the rows of a host's table, `{id}` being their id column
   * (as text, compared byte-exactly like every id here). Uncorrelated:
   * PostgreSQL works out the principal's ids once (a hashed subplan) and
   * tests each row against them; a wide grant makes it true for every row
   * without testing any.
   */
  filter: string
  /**
   * One keyset page (`$2` the last id of the previous page, `$7` the page
   * size) of the ids the principal holds grants on or owns; `everything`
   * when a wide grant makes every id of the type allowed (the ids are then
   * not the plugin's to list).
   */
  list: string
}

export function checkTexts (scope: GroupScope): CheckTexts {
  const c = conditions(scope)
  const head = `${PREPARED_MARKER} `
  const existsOf = (c: Conditions) => `select exists (\n  ${WAYS.map((way) => probe(c, way, '$2')).join('\n  union all ')}\n) as allowed`
  const exists = existsOf(c)
  // The check with its ttl reads the principal's groups in twice as many
  // probes: read them once, up front (with no stored groups they are `$5`).
  const once = scope.groupDepth === 0 ? c : conditions(scope, '(select a from principal_groups)::text[]')
  const groupsOnce = scope.groupDepth === 0 ? '' : `with principal_groups(a) as materialized (select ${groupsText(scope, USER, '$5')})\n`
  const idWays = WAYS.filter((way) => way.target.perId).map((way) => `exists (${probe(c, way, 'i.id')})`)
  return Object.freeze({
    one: `${head}${exists}`,
    oneUntil: `${head}${groupsOnce}${existsOf(once)}, (${once.nextChange}) as ttl`,
    many: `${head}select i.n::int4 as n, (\n  ${[...wide(c), ...idWays].join('\n  or ')}\n) as allowed
from unnest($2::text[]) with ordinality as i(id, n)
order by i.n`,
    filter: `(${[...wide(c), ...perId(c).map((ids) => `cast({id} as text) collate "C" in (${ids})`)].join('\n  or ')})`,
    list: `${head}select ${wide(c).join(' or ')} as everything, array(
  select id from (${perId(c).join(' union ')}) as held(id)
  where id > $2 order by id limit $7
) as ids`
  })
}

/**
 * The route check and its ttl form as PL/pgSQL functions of the schema, for
 * a pool that cannot send named prepared statements (a host's plain
 * `pg.Pool`, a pooler in transaction mode): PL/pgSQL keeps each of its
 * statements' plans for the session, and a call is trivial to parse and
 * plan. The bodies are `one` and `oneUntil` of `checkTexts` as they are
 * generated now (a function's `$n` are its arguments, bound as the
 * statement's are), and the names carry a hash of what is installed: a
 * changed rule, schema or `groupDepth` names other functions, so a function
 * installed from an older rule is never called (see lib/store/check-functions.ts).
 */
export interface CheckFunctions {
  /** The two function names, unqualified, as `pg_proc` has them. */
  readonly names: readonly [string, string]
  /** The statements that create both (run in one transaction). */
  readonly install: readonly [string, string]
  /** Calls taking the statements' parameters, answering the statements' columns. */
  readonly one: string
  readonly oneUntil: string
}

const ARGUMENTS = '(text, text, text[], text, text[], boolean)'
const CALL = '($1::text, $2::text, $3::text[], $4::text, $5::text[], $6::boolean)'

export function checkFunctions (scope: GroupScope): CheckFunctions {
  const texts = checkTexts(scope)
  const head = `${PREPARED_MARKER} `
  const body = (text: string) => text.slice(head.length)
  const fn = (name: string, returns: string, text: string) => `create or replace function "${scope.schema}".${name}${ARGUMENTS}
returns table(${returns}) language plpgsql stable as $fdd$
#variable_conflict use_column
begin
  return query ${body(text)};
end $fdd$`
  const one = (name: string) => fn(name, 'allowed boolean', texts.one)
  const until = (name: string) => fn(name, 'allowed boolean, ttl float8', texts.oneUntil)
  // The whole definitions in the hash (bodies, signature, language), so the name says exactly what runs.
  const hash = createHash('sha256').update(`${one('')}\n${until('')}`).digest('hex').slice(0, 16)
  const names = [`default_deny_check_${hash}`, `default_deny_check_until_${hash}`] as const
  return Object.freeze({
    names,
    install: [one(names[0]), until(names[1])] as const,
    one: `${head}select allowed from "${scope.schema}".${names[0]}${CALL}`,
    oneUntil: `${head}select allowed, ttl from "${scope.schema}".${names[1]}${CALL}`
  })
}

/** The route check's text (for tests that look at its plan). */
export function checkText (scope: GroupScope): string {
  return checkTexts(scope).one
}

/**
 * Grants in effect that count for `principal` on the target, whatever their
 * privilege, as a condition on the grant table: what explain, the facts and
 * a write's locked reads select. The grantees and targets that cannot apply
 * (no user, no groups; no id) are left out.
 */
export function effective (principal: Principal, target: ResourceRef, scope: GroupScope): RawBuilder<SqlBool> {
  const groups = groupsText(scope, USER, '$5')
  const who = GRANTEES.filter((rule) => granteeApplies(rule, principal, scope.groupDepth)).map((rule) => `(${grantee(rule, groups, false)})`)
  const text = `resource_type = $1 and ${countsOnText(target)} and (${who.join(' or ')}) and ${LIVE}`
  return bindText<SqlBool>(text, [target.resource, target.id, null, principal.kind === 'user' ? principal.id : null, [...principal.groups]])
}

function countsOnText (target: ResourceRef): string {
  return `(${Object.values(TARGETS).filter((rule) => targetApplies(rule, target)).map((rule) => TARGET_SQL[rule.kind]('$2')).join(' or ')})`
}

/** Grants in effect on the target, whoever holds them: what counts the managers left. */
export function inEffectOn (target: ResourceRef): RawBuilder<SqlBool> {
  return bindText<SqlBool>(`resource_type = $1 and ${countsOnText(target)} and ${LIVE}`, [target.resource, target.id])
}

/** Grants past their expiry: they can never count again (what the purge deletes). */
export function expired (): RawBuilder<SqlBool> {
  return bindText<SqlBool>('expires_at <= now()', [])
}
