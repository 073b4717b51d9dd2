// How the pieces of the rule, as rule-sql.ts spells them on the tables, are
// arranged into the statements that decide: the route check (with and
// without how long its answer holds), checkMany, the filter condition and the
// list pages. Nothing here spells a condition of the rule; every statement is
// put together from rule-sql.ts's `conditions`, so a new way a grant counts
// reaches them all.
import type { Way } from '../decision/rule.js'
import { groupsText } from './predicates.js'
import { PAGE_MARKER } from './database.js'
import { conditions, FANOUT, PREPARED_MARKER, sortedRange, spellings, targetsOf, USER, waysOf, type Conditions, type RuleScope, type Spelling } from './rule-sql.js'

// A way probed for one id (the route check, each id of checkMany).
function probe (c: Conditions, way: Way, id: string): string {
  if (way.kind === 'owner') return (c.owners[way.target.kind] as Spelling).on(id)
  return way.target.perId ? c.any(way.target.kind, id) : c.each(way.target.kind, id)
}

// The ways that do not depend on the id (one hit allows every id), and those
// that do, as ids (the lists).
const wide = (c: Conditions, ways: readonly Way[]) => ways.filter((way) => !way.target.perId).map((way) => `(select exists (${probe(c, way, '$2')}))`)
const perId = (c: Conditions, ways: readonly Way[]) => ways.filter((way) => way.target.perId)
  .map((way) => way.kind === 'owner' ? (c.owners[way.target.kind] as Spelling).ids(() => '') : c.ids(way.target.kind))

// The same ids as `perId`, each way's in id order (see `sortedRange`): a
// union of them is a merge, and grouping it by id keeps it in order.
const sortedPerId = (c: Conditions, ways: readonly Way[], after: string | null, limit: string | null, fanout = FANOUT, rest = true) => ways.filter((way) => way.target.perId)
  .map((way) => way.kind === 'owner'
    ? sortedRange((c.owners[way.target.kind] as Spelling).ids(() => ''), null, after, limit)
    : c.sortedIds(way.target.kind, after, limit, fanout, rest))

// The same, as sources in a fixed order whatever the number of groups
// (see `sortedSources`), each with its way: '' where a source has no range.
const sortedSources = (c: Conditions, ways: readonly Way[], after: string | null, fanout: number, rest: boolean) => ways.filter((way) => way.target.perId)
  .flatMap((way) => (way.kind === 'owner'
    ? [sortedRange((c.owners[way.target.kind] as Spelling).ids(() => ''), null, after, null)]
    : c.sortedSources(way.target.kind, after, null, fanout, rest)).map((source) => ({ way, source })))

/** With the principal's groups read first (see `held`), how many get a range of their own; the others share one. */
const KNOWN_FANOUT = 16
/** With the pairs read first (see `holdings`), how many get a range of their own; with more, their resources are sorted together. */
export const KNOWN_ABOVE = 16

// The ways found through the closure (the ancestors'), whose resources a page reads below the pairs the principal holds or owns.
const throughTree = (ways: readonly Way[]) => ways.filter((way) => way.target.perId && way.target.kind === 'ancestor')

export interface CheckTexts {
  /** One resource (`$2`): the probes in order, stopping at the first hit. */
  one: string
  /** The route check and how long its answer holds, for the decision cache. */
  oneUntil: string
  /**
   * Many resources (`$2` an array of ids): one row, `allowed` a string of '1'
   * and '0', one per id in order. The wide probes do not depend on the id:
   * PostgreSQL runs them once, and when one hits, no id is probed at all.
   * The grants on the ids and the paths above them are each read in one
   * index scan for all the ids (`resource_id = any($2)`), hashed, and each id
   * looked up; ownership is probed per id, one search of the owner index
   * each: PostgreSQL 15 planned the owners' scan of all the ids as a range of
   * everything the principal owns of the type, filtered.
   */
  many: string
  /**
   * `many` for the embedded database, where ownership is one scan for all
   * the ids too: its PostgreSQL (17) searches the owner index for the ids
   * only, and each of its executor's per-id probes costs more than on a
   * server (WebAssembly).
   */
  manyEmbedded: string
  /**
   * A condition on the rows of a host's table, `{id}` being their id column
   * (as text, compared byte-exactly like every id here). Uncorrelated:
   * PostgreSQL works out the principal's ids once (a hashed subplan) and
   * tests each row against them; a wide grant makes it true for every row
   * without testing any.
   */
  filter: string
  /**
   * `filter` for a principal known to hold no wide grant, given how many
   * groups it is in (`$5`, all of them, read by `list`): the ids it holds as
   * a set PostgreSQL can join to the host's rows (a condition with an `or`
   * in it cannot be), read in id order as a merge of the holder index's
   * ranges, one per group. A keyset page of a host table whose id column
   * sorts byte-wise (collation "C") is then read from the grants, a page's
   * worth of each range, and each row fetched by its key. `after`: only the
   * ids after `$2`, each range starting there (a keyset page's bound, which
   * PostgreSQL does not carry from the host's rows across the join).
   */
  held: (groups: number, after: boolean, sources?: string, above?: number) => string
  /**
   * What `held` needs to know, asked first (`$2` the keyset's bound): whether
   * a wide grant allows every id (`everything`), every group of the
   * principal (`groups`), and for each source of the merge whether the
   * principal holds anything after `$2` through it (`sources`, '1' or '0'
   * each, in `sortedSources`' order): a page's statement then merges only
   * the sources that have something, and costs PostgreSQL less to plan.
   * With a hierarchy, `above`: the pairs below which the principal reaches
   * resources (type, id, type, id, …; at most `KNOWN_ABOVE` + 1 of them),
   * for `held` to read one range of the closure below each (`$8`).
   */
  holdings: string
  /**
   * One keyset page (`$2` the last id of the previous page, `$7` the page
   * size) of the ids the principal holds grants on or owns; `everything`
   * when a wide grant makes every id of the type allowed (the ids are then
   * not the plugin's to list); `groups`, every group of the principal.
   */
  list: string
}

export function checkTexts (scope: RuleScope): CheckTexts {
  const c = conditions(scope, '$7')
  const paged = conditions(scope, '$8')
  const ways = waysOf(scope)
  const head = `${PREPARED_MARKER} `
  const withs = (...ctes: Array<string | null>) => ctes.some((cte) => cte !== null) ? `with ${ctes.filter((cte) => cte !== null).join(',\n')}\n` : ''
  const existsOf = (c: Conditions) => `select exists (\n  ${ways.map((way) => probe(c, way, '$2')).join('\n  union all ')}\n) as allowed`
  // The one resource's ancestors are read once for every way through them, and only if
  // a probe before them has not allowed (a materialized CTE runs when first read).
  const { reached } = spellings(scope, '$7')
  const paths = targetsOf(scope).flatMap((rule) => reached[rule.kind]?.path('$2') ?? [])
  const pathCte = paths.length === 0 ? null : `path(type, id) as materialized (${paths.join('\n  union all ')})`
  const path = pathCte === null ? undefined : 'select type, id from path'
  const exists = existsOf(conditions(scope, '$7', undefined, path))
  // The check with how long its answer holds must read every way for the
  // ttl, so each way's rows are read once for both: whether one counts now,
  // and the earliest change ahead. (An exists that stops at its first hit,
  // then a second pass for the ttl, read the resource's grants twice and
  // made three ranges of the one the check reads.)
  const untilOf = (c: Conditions) => `select coalesce(bool_or(live), false) as allowed, (extract(epoch from min(at) - now()) * 1000)::float8 as ttl from (
  ${ways.map((way) => c.timed(way, '$2')).join('\n  union all ')}
) as ways(live, at)`
  // The check with its ttl reads the principal's groups in twice as many
  // probes: read them once, up front (with no stored groups they are `$5`).
  const once = conditions(scope, '$7', scope.groupDepth === 0 ? undefined : '(select a from principal_groups)::text[]', path)
  const groupsCte = scope.groupDepth === 0 ? null : `principal_groups(a) as materialized (select ${groupsText(scope, USER, '$5')})`
  // checkMany reads the groups once too; each way that depends on the id is
  // either one set of the batch's ids, read in one scan and hashed, or a probe
  // per id (`owners: 'each'`, the owner ways); the ways through a hierarchy
  // read every id's path in the one scan.
  const batch = scope.groupDepth === 0 ? c : conditions(scope, '$7', '(select a from principal_groups)::text[]')
  const ids = '$2::text[]'
  const idWays = (owners: 'each' | 'among') => ways.filter((way) => way.target.perId).flatMap((way, _, perIdWays) => {
    const sameKind = perIdWays.filter((other) => other.target.kind === way.target.kind)
    const merged = batch.reachedAmong(way.target.kind, sameKind, ids)
    if (merged !== null) return sameKind[0] === way ? [`i.id in (${merged})`] : []
    const among = way.kind === 'grant' ? batch.among(way.target.kind, ids) : owners === 'among' ? batch.owners[way.target.kind]?.among?.(ids) ?? null : null
    return [among === null ? `exists (${probe(batch, way, 'i.id')})` : `i.id in (${among})`]
  })
  // One row: decoding a hundred rows cost PGlite about 0.2 ms a call.
  const many = (owners: 'each' | 'among') => `${head}${withs(groupsCte)}select string_agg(case when allowed then '1' else '0' end, '' order by n) as allowed from (
select i.n, (\n  ${[...wide(batch, ways), ...idWays(owners)].join('\n  or ')}\n) as allowed
from unnest(${ids}) with ordinality as i(id, n)
) as answers`
  // The groups read first, all of them in `$5`.
  const known = conditions(scope, '$7', '$5::text[]')
  // What a page holds through, with the groups read once (no path: the lists read no one resource's).
  const onceFlat = scope.groupDepth === 0 ? c : conditions(scope, '$7', '(select a from principal_groups)::text[]')
  return Object.freeze({
    one: `${head}${withs(pathCte)}${exists}`,
    oneUntil: `${head}${withs(groupsCte, pathCte)}${untilOf(once)}`,
    many: many('each'),
    manyEmbedded: many('among'),
    filter: `(${[...wide(c, ways), ...perId(c, ways).map((ids) => `cast({id} as text) collate "C" in (${ids})`)].join('\n  or ')})`,
    held: (groups: number, after: boolean, sources?: string, above?: number) => {
      const bound = after ? '$2' : null
      const all = sortedSources(known, ways, bound, Math.min(groups, KNOWN_FANOUT), groups > KNOWN_FANOUT)
        .filter(({ source }, i) => source !== '' && (sources === undefined || sources[i] === '1'))
      // The pairs read first: one range below each, for the tree's ways that hold anything, in place of their sorted sources.
      const tree = above === undefined || above > KNOWN_ABOVE ? [] : throughTree(ways).filter((way) => all.some((source) => source.way === way))
      const pairs = Array.from({ length: tree.length === 0 ? 0 : above as number }, (_, i) => known.belowOne(tree, `($8::text[])[${2 * i + 1}]`, `($8::text[])[${2 * i + 2}]`, bound))
      const merged = [...all.filter(({ way }) => tree.length === 0 || !tree.includes(way)).map(({ source }) => source), ...pairs]
      return merged.length === 0 ? 'false' : `${PAGE_MARKER} cast({id} as text) collate "C" in (select id from (\n  ${merged.join('\n  union all ')}\n) as held(id) group by id)`
    },
    // Each source with every group in its lateral range, so that there is one per source; `exists` reads its first entry.
    holdings: `${head}${withs(groupsCte)}select ${wide(onceFlat, ways).join(' or ')} as everything, ${scope.groupDepth === 0 ? '$5::text[]' : '(select a from principal_groups)'} as groups, concat(${
      sortedSources(onceFlat, ways, '$2', 0, true).map(({ source }) => source === '' ? `'0'` : `case when exists ${source} then '1' else '0' end`).join(', ')}) as sources, ${
      throughTree(ways).length === 0 ? `'{}'::text[]` : `array(select v.v from (select distinct type, id from (\n  ${onceFlat.above(throughTree(ways))}\n) as pairs(type, id) order by type, id limit ${KNOWN_ABOVE + 1}) as p
    cross join lateral (values (1, p.type), (2, p.id)) as v(k, v) order by p.type, p.id, v.k)`} as above`,
    list: `${head}select ${wide(paged, ways).join(' or ')} as everything, ${groupsText(scope, USER, '$5')} as groups, array(
  select id from (${sortedPerId(paged, ways, '$2', '$7').join('\n  union all ')}) as held(id)
  group by id order by id limit $7
) as ids`
  })
}

/** The route check's text (for tests that look at its plan). */
export function checkText (scope: RuleScope): string {
  return checkTexts(scope).one
}
