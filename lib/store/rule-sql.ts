// The rule of lib/decision/rule.ts as SQL: every statement and condition that
// decides who holds what is generated here from its GRANTEES, TARGETS and
// WAYS, so that none can drift from the others. Two parts: how each piece of
// the rule is spelled on the plugin's tables (here: the tables below, keyed
// by the rule's kinds, so a new kind does not compile until it is spelled),
// and how the pieces are arranged into statements whose plans are fast
// (rule-statements.ts: one index range per probe, the first hit ending an
// EXISTS).
import { GRANTEES, TARGETS, WAYS, type GranteeRule, type TargetKind, type Way } from '../decision/rule.js'
import { groupsText, type GroupScope } from './predicates.js'

/**
 * Statements starting with this comment are sent as named prepared statements
 * by the pools the plugin builds (`postgresKysely`, `kyselyPool`): parsed and
 * planned once per connection, then only bound and executed.
 */
export const PREPARED_MARKER = '/* fastify-default-deny: prepared */'

// The parameters every form binds: `$1` type, `$2` id (ids, or the last id
// of the previous page), `$3` accepted privileges, `$4` user id (null for
// anonymous), `$5` the token's groups (to which the stored memberships add
// theirs), `$6` whether owners count, `$7` a page's size; with resource
// hierarchies, the edges a path from an ancestor may not cross for the asked
// privilege (the plan's `blocked`): `$8` in a page, `$7` in the statements
// that have no page size (every parameter of a statement must be used).
export const USER = '$4'

/** What the statements are generated for: the plugin's schema, its group depth, and its hierarchy (null: none). */
export interface RuleScope extends GroupScope {
  readonly hierarchy?: { readonly parentTypes: readonly string[] } | null
}

/** The ways this scope has: the ancestor ways only with a hierarchy. */
export function waysOf (scope: RuleScope): readonly Way[] {
  return scope.hierarchy == null ? WAYS.filter((way) => way.target.kind !== 'ancestor') : WAYS
}

export const targetsOf = (scope: RuleScope) => Object.values(TARGETS).filter((t) => scope.hierarchy != null || t.kind !== 'ancestor')

/** Selects `columns` from the principal's live grants of an accepted privilege that also meet `where`. */
type Granted = (where: string, columns: string) => string

/**
 * How one kind of target is spelled on the tables: `on`, a condition on the
 * grant rows that count on the one resource `id` (SQL) names; `ids`, given
 * the principal's grants, the ids of type `$1` they make allowed (the lists);
 * `among`, the same condition for every id of `ids` (SQL, a text[]) at once,
 * or null where the target is not the resource itself (checkMany).
 */
export interface Spelling {
  on: (id: string) => string
  ids: (granted: Granted) => string
  among: ((ids: string) => string) | null
}

/** A kind found through the closure: `path`, one id's targets as rows `(type, id)`; `paths`, those of every id of `ids`
 * (SQL, a text[]) as rows `(id, type, target id)`; `grants` and `owners`, the pairs of their possible types the principal
 * holds and owns, not per id (checkMany reads them once); `below`, the resources of type $1 below one of them (`type`,
 * `id`: SQL) through paths that pass, and `grantsOn`, `ownersOn`, whether the principal holds or owns that one (a page's
 * ranges). Null: named by the id, or none. */
interface Reached {
  path: (id: string) => string
  paths: (ids: string) => string
  grants: (granted: Granted) => string
  owners: () => string
  below: (type: string, id: string) => string
  grantsOn: (granted: Granted, type: string, id: string) => string
  ownersOn: (type: string, id: string) => string
}

// `path`: where the ancestor ways read the one resource's ancestors (default: the closure, once per way).
export function spellings (scope: RuleScope, edges: string, path?: string): { grants: Readonly<Record<TargetKind, Spelling>>, owners: Readonly<Record<TargetKind, Spelling | null>>, reached: Readonly<Record<TargetKind, Reached | null>> } {
  const closure = `"${scope.schema}".default_deny_resource_ancestor`
  const resource = `"${scope.schema}".default_deny_resource`
  // The ancestors of `id` whose path down to it lets the asked privilege pass: one index range.
  const ancestors = (id: string) => `select ancestor_type, ancestor_id from ${closure}
    where descendant_type = $1 and descendant_id = ${id} and not (edges && ${edges}::text[])`
  const ancestorsOfEach = (ids: string) => `select descendant_id, ancestor_type, ancestor_id from ${closure}
    where descendant_type = $1 and descendant_id = any(${ids}) and not (edges && ${edges}::text[])`
  const above = path === undefined ? ancestors : () => path
  // The resources of type $1 below any of `ancestors`, through paths that pass: one index range each.
  const below = (ancestors: string) => `select descendant_id from ${closure}
    where (ancestor_type, ancestor_id) in (${ancestors}) and descendant_type = $1 and not (edges && ${edges}::text[])`
  const parentTypes = `array[${(scope.hierarchy?.parentTypes ?? []).map((type) => `'${type.replace(/'/g, "''")}'`).join(', ')}]::text[]`
  const owned = `$6::boolean and owner_id = ${USER}`
  return {
    grants: {
      resource: {
        on: (id) => `resource_type = $1 and resource_id = ${id}`,
        ids: (granted) => granted('resource_type = $1 and resource_id is not null', 'resource_id'),
        among: (ids) => `resource_type = $1 and resource_id = any(${ids})`
      },
      ancestor: { on: (id) => `(resource_type, resource_id) in (${above(id)})`, ids: (granted) => below(granted('resource_id is not null', 'resource_type, resource_id')), among: null },
      type: { on: () => 'resource_type = $1 and resource_id is null', ids: (granted) => granted('resource_type = $1 and resource_id is null', 'resource_id'), among: null }
    },
    owners: {
      resource: {
        on: (id) => `select resource_id from ${resource} where ${owned} and resource_type = $1 and resource_id = ${id}`,
        ids: () => `select resource_id from ${resource} where ${owned} and resource_type = $1`,
        among: (ids) => `select resource_id from ${resource} where ${owned} and resource_type = $1 and resource_id = any(${ids})`
      },
      ancestor: {
        on: (id) => `select resource_id from ${resource} where ${owned} and (resource_type, resource_id) in (${above(id)})`,
        ids: () => below(`select resource_type, resource_id from ${resource} where ${owned} and resource_type = any(${parentTypes})`),
        among: null
      },
      type: null
    },
    reached: {
      resource: null,
      ancestor: {
        path: ancestors,
        paths: ancestorsOfEach,
        grants: (granted) => granted(`resource_id is not null and resource_type = any(${parentTypes})`, 'resource_type, resource_id'),
        owners: () => `select resource_type, resource_id from ${resource} where ${owned} and resource_type = any(${parentTypes})`,
        below: (type, id) => `select descendant_id from ${closure} where ancestor_type = ${type} and ancestor_id = ${id} and descendant_type = $1 and not (edges && ${edges}::text[])`,
        grantsOn: (granted, type, id) => granted(`resource_type = ${type} and resource_id = ${id}`, 'resource_id'),
        ownersOn: (type, id) => `select resource_id from ${resource} where ${owned} and resource_type = ${type} and resource_id = ${id}`
      },
      type: null
    }
  }
}

export function grantee (rule: GranteeRule, groups: string, holder: boolean): string {
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

export const LIVE = '(expires_at is null or expires_at > now()) and (starts_at is null or starts_at <= now())'
/** Not past its expiry: in effect now, or scheduled to be. */
const UNEXPIRED = '(expires_at is null or expires_at > now())'
/** Past its expiry: a grant that can never count again (what the purge deletes). */
export const EXPIRED = 'expires_at <= now()'
const ACCEPTED = 'privilege = any($3::text[])'
// The same test, spelled so that no plan makes it an index condition: in a
// scan of many ids (`resource_id = any(...)`), an index condition on the
// privilege too, a later column of the key, made a search of the index per
// id and privilege (or per id and key prefix) instead of per id.
const ACCEPTED_TESTED = `coalesce(${ACCEPTED}, false)`

export function conditions (scope: RuleScope, edges: string, groups = groupsText(scope, USER, '$5'), path?: string) {
  const grant = `"${scope.schema}".default_deny_grant`
  const { grants, owners, reached } = spellings(scope, edges, path)
  // Inside one probe the alternative with no id to compare goes first: it costs nothing to test.
  const cheapFirst = [...GRANTEES].sort((a, b) => Number(a.names !== 'everyone') - Number(b.names !== 'everyone'))
  const held = `(${cheapFirst.map((rule) => `(${grantee(rule, groups, false)})`).join(' or ')})`
  /**
   * The principal's grants, one branch per grantee: for the many ids of a
   * list (`holder`) each branch is an index-only range of the holder index,
   * where the `or` would fetch every grant row from the heap; for a type,
   * each branch one short range.
   */
  // A path's target `t` is one the principal holds one of `ways` on: tested
  // against what it holds and owns on the types that can be parents, read once and hashed.
  const reachedBy = (spelling: Reached, ways: readonly Way[]) =>
    ways.map((way) => `(t.type, t.id) in (${way.kind === 'grant' ? spelling.grants(each(true)) : spelling.owners()})`).join('\n    or ')
  const each = (holder: boolean): Granted => (where, columns) => GRANTEES
    .map((rule) => `select ${columns} from ${grant} where ${grantee(rule, groups, holder)} and ${where} and ${ACCEPTED} and ${LIVE}`)
    .join('\n  union all ')
  /**
   * A page's ranges: the principal's grants (`where`) one range of the
   * holder index per grantee, each read in id order from `after` (SQL, or
   * null: from the start) and at most `limit` long (null: to the end), so
   * that a merge of them reads a page's worth of each. A merge needs a fixed
   * number of ranges, and the groups are an array: the first `fanout` get a
   * range each, and with `rest` the others one range per group, sorted
   * together.
   */
  const ranges = (after: string | null, limit: string | null, fanout: number, rest: boolean, rules: readonly GranteeRule[] = GRANTEES): Granted => (where, columns) => {
    const range = (who: string) => `select ${columns} from ${grant} where ${who} and ${where} and ${ACCEPTED} and ${LIVE}`
    return rules
      .flatMap((rule) => rule.names !== 'groups'
        ? [range(grantee(rule, groups, true))]
        : [...Array.from({ length: fanout }, (_, i) => range(`principal_kind = '${rule.kind}' and principal_id = (${groups})[${i + 1}]`)),
            // Each remaining group's range in turn (a lateral join, so that no plan reads every group's grants), a page long too.
            ...rest ? [`select ${columns} from unnest((${groups})[${fanout + 1}:]) as rest(id) cross join lateral ${
              sortedRange(range(`principal_kind = '${rule.kind}' and principal_id = rest.id`), columns, after, limit)} as held where true`] : []])
      .map((select) => sortedRange(select, columns, after, limit))
      .join('\n  union all ')
  }
  /**
   * `sortedIds` as its sources: for the grants on the resources themselves
   * one per grantee (each its ranges, a union of them; '' for the groups
   * when `fanout` is 0 and not `rest`: no range), for the others one. What
   * a principal holds nothing through can be left out of a page's merge.
   */
  const sortedSources = (kind: TargetKind, after: string | null, limit: string | null, fanout = FANOUT, rest = true): string[] => kind === 'resource'
    ? GRANTEES.map((rule) => rule.names === 'groups' && fanout === 0 && !rest ? '' : grants[kind].ids(ranges(after, limit, fanout, rest, [rule])))
    : [sortedRange(grants[kind].ids(each(true)), null, after, limit)]
  return {
    /** One resource's grants of one kind: one index range (type, id, then the grantee alternatives). */
    any: (kind: TargetKind, id: string) => `select resource_id from ${grant} where ${grants[kind].on(id)} and ${ACCEPTED} and ${held} and ${LIVE}`,
    each: (kind: TargetKind, id: string) => each(false)(grants[kind].on(id), 'resource_id'),
    /** The ids of type $1 a kind of grant makes allowed. */
    ids: (kind: TargetKind) => grants[kind].ids(each(true)),
    /**
     * The same ids in id order, from `after` and at most `limit` of them
     * (see `ranges`): the grants on the resources themselves as one range
     * per grantee, the others (below an ancestor) as one sorted set.
     */
    sortedIds: (kind: TargetKind, after: string | null, limit: string | null, fanout = FANOUT, rest = true) => sortedSources(kind, after, limit, fanout, rest)
      .filter((source) => source !== '').join('\n  union all '),
    sortedSources,
    owners,
    /** The pairs (type, id) through which `ways` (found through a table) reach resources below: held a grant on or owned. */
    above: (ways: readonly Way[]) => ways.map((way) => {
      const spelling = reached[way.target.kind] as Reached
      return way.kind === 'grant' ? spelling.grants(each(true)) : spelling.owners()
    }).join('\n  union '),
    /**
     * The resources of type $1 below the one pair (`type`, `id`: SQL) in id
     * order from `after`, while one of `ways` still reaches them through it
     * (tested once, with the page): one range of the closure's index, where
     * all the pairs' resources at once had to be sorted.
     */
    belowOne: (ways: readonly Way[], type: string, id: string, after: string | null) => {
      const spelling = reached[ways[0]?.target.kind ?? 'ancestor'] as Reached
      const held = ways.map((way) => `exists (${way.kind === 'grant' ? spelling.grantsOn(each(true), type, id) : spelling.ownersOn(type, id)})`)
      return sortedRange(`${spelling.below(type, id)} and (${held.join(' or ')})`, 'descendant_id', after, null)
    },
    /**
     * Of the ids of `ids` (SQL, a text[]), those a kind of grant on the
     * resource itself allows (null: a kind not named by the id): one index
     * scan for all of them, the key's ids searched in order.
     */
    among: (kind: TargetKind, ids: string): string | null => {
      const among = grants[kind].among
      return among === null ? null : `select resource_id from ${grant} where ${among(ids)} and ${ACCEPTED_TESTED} and ${held} and ${LIVE}`
    },
    /**
     * The ways through a kind found through a table (null: see `Reached`),
     * for every id of `ids` (SQL, a text[]) at once: the ids among them the
     * ways allow, every id's path read in one scan.
     */
    reachedAmong: (kind: TargetKind, ways: readonly Way[], ids: string, spelling = reached[kind]): string | null => spelling === null ? null
      : `select t.descendant from (${spelling.paths(ids)}) as t(descendant, type, id)\n    where ${reachedBy(spelling, ways)}`,
    /**
     * One way's rows on one resource (`id`: SQL) for the check with its ttl:
     * `live`, whether the row counts now, and `at`, when it next changes (a
     * start or an expiry; null: never). Grants past their expiry are left
     * out: they can never count again. Read like the check's probes: the
     * grants on the resource itself one range (type, id, then the grantee
     * alternatives), the others one short range per grantee, an owner one
     * probe (it has no schedule).
     */
    timed: (way: Way, id: string): string => {
      if (way.kind === 'owner') return `select true, null::timestamptz from (${(owners[way.target.kind] as Spelling).on(id)}) as owned`
      const rows = (who: string) => `select ${LIVE}, case when starts_at > now() then starts_at else expires_at end from ${grant}
      where ${grants[way.target.kind].on(id)} and ${ACCEPTED} and ${who} and ${UNEXPIRED}`
      return way.target.perId ? rows(held) : GRANTEES.map((rule) => rows(`(${grantee(rule, groups, false)})`)).join('\n  union all ')
    }
  }
}

export type Conditions = ReturnType<typeof conditions>

/** How many of the principal's groups get a range of their own in a page's merge (see `ranges`). */
export const FANOUT = 4

/**
 * `select` (of one column, `column`, or null: its only column, as `id`) in
 * id order, from `after` and at most `limit` rows: parenthesised, so that a
 * union of such ranges is a merge of sorted inputs, not one sort of them all.
 */
export function sortedRange (select: string, column: string | null, after: string | null, limit: string | null): string {
  const from = column === null ? `select id from (${select}) as ranged(id) where true` : select
  const id = column ?? 'id'
  return `(${from}${after === null ? '' : ` and ${id} > ${after}`} order by ${id}${limit === null ? '' : ` limit ${limit}`})`
}
