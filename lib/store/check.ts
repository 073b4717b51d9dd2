// The check in its four forms, all built from the same SQL conditions and
// fixed at startup: the route check (one yes/no statement that probes the
// grant table's unique index once per way a grant can count and stops at the
// first hit), checkMany (one answer per id), filter (a condition for a host's
// own query) and listIds (keyset pages of ids). Each decides exactly as
// `holds` does on the full facts (the property test `check-agrees` holds them
// to it); explain and the grant API keep reading the full facts.
import { CompiledQuery, sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely'
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import type { CheckPlan } from '../decision/policy.js'
import type { Budget } from './deadline.js'
import type { DirectRunner } from './database.js'
import { databaseOf } from './database.js'
import { bindText, groupsText, type GroupScope } from './predicates.js'

/**
 * Statements starting with this comment are sent as named prepared statements
 * by the pools the plugin builds (`postgresKysely`, `kyselyPool`): parsed and
 * planned once per connection, then only bound and executed.
 */
export const PREPARED_MARKER = '/* fastify-default-deny: prepared */'

// The conditions every form of the check is built from, written once. `$1`
// type, `$3` accepted privileges, `$4` user id (null for anonymous), `$5`
// the token's groups (to which the stored memberships add theirs), `$6`
// whether owners count. `groups` is SQL for the principal's groups (token's
// and stored). The resource's own grants are one index range (type, id, then
// the principal alternatives).
function conditions (scope: GroupScope, groups: string) {
  const { schema } = scope
  const grant = `"${schema}".default_deny_grant`
  const live = '(expires_at is null or expires_at > now()) and (starts_at is null or starts_at <= now())'
  const user = "principal_kind = 'user' and principal_id = $4"
  const group = `principal_kind = 'group' and principal_id = any(${groups})`
  // Two spellings of the anonymous grantee: `principal_id = ''` makes a list's
  // probe an index-only range of the holder index, while in the type-level
  // probe it makes the generic plan pick the wrong index.
  const anonymous = "principal_kind = 'anonymous'"
  const anonymousHolder = `${anonymous} and principal_id = ''`
  const held = `((${anonymous}) or (${user}) or (${group}))`
  const typeLevel = `resource_type = $1 and resource_id is null and privilege = any($3::text[]) and ${live}`
  return {
    /** Ids of the type, matching `ids`, with a live grant the principal holds. */
    granted: (ids: string) => `select resource_id from ${grant} where resource_type = $1 and ${ids} and privilege = any($3::text[]) and ${held} and ${live}`,
    /**
     * The same ids as `granted`, one branch per kind of grantee: for the many
     * ids of a list each branch is an index-only range of the holder index,
     * where the `or` of `held` would fetch every grant row from the heap.
     */
    grantedEach: (ids: string) => [user, group, anonymousHolder]
      .map((who) => `select resource_id from ${grant} where ${who} and resource_type = $1 and ${ids} and privilege = any($3::text[]) and ${live}`)
      .join('\n  union all '),
    /** Ids of the type, matching `ids`, the principal owns (when owners count). */
    owned: (ids: string) => `select resource_id from "${schema}".default_deny_resource where $6::boolean and resource_type = $1 and ${ids} and owner_id = $4`,
    /**
     * Milliseconds until the next scheduled change (a start or an expiry) of
     * a grant that counts or will count for the principal on `$2` or its
     * type; null when none is scheduled. How long a cached answer may live.
     */
    nextChange: `select (extract(epoch from min(case when starts_at > now() then starts_at else expires_at end) - now()) * 1000)::float8
    from ${grant} where resource_type = $1 and (resource_id = $2 or resource_id is null) and privilege = any($3::text[]) and ${held}
    and (starts_at > now() or expires_at > now())`,
    /** A live type-level grant the principal holds (a text column, like the others, so they can be one UNION). */
    typeLevel: [user, group, anonymous].map((who) => `select resource_id from ${grant} where ${who} and ${typeLevel}`).join('\n  union all ')
  }
}

const statement = (scope: GroupScope) => ({
  head: `${PREPARED_MARKER} `,
  c: conditions(scope, groupsText(scope, '$4', '$5'))
})

// One resource (`$2`): the probes in order, stopping at the first hit.
export function checkText (scope: GroupScope): string {
  const { head, c } = statement(scope)
  return `${head}select exists (
  ${c.granted('resource_id = $2')}
  union all ${c.owned('resource_id = $2')}
  union all ${c.typeLevel}
) as allowed`
}

// The route check and how long its answer holds, for the decision cache.
function checkUntilText (scope: GroupScope): string {
  const { head, c } = statement(scope)
  return `${head}select exists (
  ${c.granted('resource_id = $2')}
  union all ${c.owned('resource_id = $2')}
  union all ${c.typeLevel}
) as allowed, (${c.nextChange}) as ttl`
}

// Many resources (`$2` an array of ids), one row each in the order given.
// The type-level probes do not depend on the id: PostgreSQL runs them once,
// and when one hits, no id is probed at all.
function checkManyText (scope: GroupScope): string {
  const { head, c } = statement(scope)
  return `${head}select i.n::int4 as n, (
  (select exists (${c.typeLevel}))
  or exists (${c.granted('resource_id = i.id')})
  or exists (${c.owned('resource_id = i.id')})
) as allowed
from unnest($2::text[]) with ordinality as i(id, n)
order by i.n`
}

// A condition on the rows of a host's table, `{id}` being their id column
// (as text, compared byte-exactly like every id here). Uncorrelated: PostgreSQL works out the principal's ids once (a hashed
// subplan) and tests each row against them; a type-level grant makes it true
// for every row without testing any.
function filterText (scope: GroupScope): string {
  const c = conditions(scope, groupsText(scope, '$4', '$5'))
  return `((select exists (${c.typeLevel}))
  or cast({id} as text) collate "C" in (${c.grantedEach('resource_id is not null')})
  or cast({id} as text) collate "C" in (${c.owned('true')}))`
}

// The ids the principal may use, for hosts that keep resources elsewhere:
// one keyset page (`$2` the last id of the previous page, `$7` the page size)
// of the ids it holds grants on or owns; `all` when a type-level grant makes
// every id of the type allowed (the ids are then not the plugin's to list).
function listText (scope: GroupScope): string {
  const { head, c } = statement(scope)
  return `${head}select (select exists (${c.typeLevel})) as everything, array(
  select id from (${c.grantedEach('resource_id is not null')} union ${c.owned('true')}) as held(id)
  where id > $2 order by id limit $7
) as ids`
}

type Rows = ReadonlyArray<Record<string, unknown>>

export class CheckStatement {
  readonly #db: Kysely<any>
  readonly #one: string
  readonly #oneUntil: string
  readonly #many: string
  readonly #direct: DirectRunner | null
  readonly #filter: string
  readonly #list: string

  constructor (db: Kysely<any>, scope: GroupScope) {
    this.#db = db
    this.#one = checkText(scope)
    this.#oneUntil = checkUntilText(scope)
    this.#many = checkManyText(scope)
    this.#direct = databaseOf(db).direct
    this.#list = listText(scope)
    this.#filter = filterText(scope)
  }

  /**
   * The check as a condition for a host's own query: true for the rows whose
   * `id` the principal may use. Parameters are bound into the host's query.
   */
  filter (principal: Principal, resource: string, plan: CheckPlan, id: Expression<unknown>): RawBuilder<SqlBool> {
    if (plan.accepted.length === 0 && !plan.ownerCounts) return sql<SqlBool>`false`
    return bindText<SqlBool>(this.#filter, values(principal, resource, null, plan), id)
  }

  /**
   * Whether `principal` holds what `plan` looks for on the target. With a
   * budget, a check that waited past it for a connection sends no query.
   * `db` (a host transaction) runs it there instead.
   */
  run (principal: Principal, target: ResourceRef, plan: CheckPlan, budget?: Budget, db?: Kysely<any>): Promise<boolean> {
    if (plan.accepted.length === 0 && !plan.ownerCounts) return Promise.resolve(false)
    return this.#execute(this.#one, values(principal, target.resource, target.id, plan), budget, db)
      .then((rows) => rows[0]?.allowed === true)
  }

  /** `run`, and how many milliseconds its answer holds (`null`: no scheduled change bounds it). */
  runUntil (principal: Principal, target: ResourceRef, plan: CheckPlan, budget?: Budget): Promise<{ allowed: boolean, ttl: number | null }> {
    if (plan.accepted.length === 0 && !plan.ownerCounts) return Promise.resolve({ allowed: false, ttl: null })
    return this.#execute(this.#oneUntil, values(principal, target.resource, target.id, plan), budget)
      .then((rows) => {
        const ttl = rows[0]?.ttl
        return { allowed: rows[0]?.allowed === true, ttl: ttl === null || ttl === undefined ? null : Number(ttl) }
      })
  }

  /** The same question for each of `ids`, in one round trip: one answer per id, in order. */
  async runMany (principal: Principal, resource: string, ids: readonly string[], plan: CheckPlan, db?: Kysely<any>): Promise<boolean[]> {
    if (ids.length === 0) return []
    if (plan.accepted.length === 0 && !plan.ownerCounts) return ids.map(() => false)
    const rows = await this.#execute(this.#many, values(principal, resource, [...ids], plan), undefined, db)
    const answers = ids.map(() => false)
    for (const row of rows) answers[Number(row.n) - 1] = row.allowed === true
    return answers
  }

  /** One page of the ids the principal may use, after `after`; `all` when a type-level grant allows every id. */
  async list (principal: Principal, resource: string, plan: CheckPlan, after: string, limit: number, db?: Kysely<any>): Promise<{ all: boolean, ids: string[] }> {
    if (plan.accepted.length === 0 && !plan.ownerCounts) return { all: false, ids: [] }
    const rows = await this.#execute(this.#list, [...values(principal, resource, after, plan), limit], undefined, db)
    const row = rows[0] as { everything: boolean, ids: string[] }
    return { all: row.everything === true, ids: row.ids }
  }

  // Not async on the direct path: the route check is on every request's path,
  // and each async layer costs a promise and a turn.
  // A standby's pool (built by the plugin) has a runner of its own; a host transaction has none.
  #execute (text: string, values: unknown[], budget?: Budget, db?: Kysely<any>): Promise<Rows> {
    const direct = db === undefined ? this.#direct : databaseOf(db).direct
    if (direct !== null) return direct(text, values, budget)
    return this.#viaKysely(CompiledQuery.raw(text, values), budget, db)
  }

  async #viaKysely (query: CompiledQuery, budget?: Budget, db?: Kysely<any>): Promise<Rows> {
    if (budget === undefined || db !== undefined) return (await (db ?? this.#db).executeQuery<Record<string, unknown>>(query)).rows
    return await this.#db.connection().execute(async (conn) => {
      budget.assertLive()
      return (await conn.executeQuery<Record<string, unknown>>(query)).rows
    })
  }
}

function values (principal: Principal, resource: string, id: string | null | string[], plan: CheckPlan): unknown[] {
  return [resource, id, plan.accepted, principal.kind === 'user' ? principal.id : null, principal.groups, plan.ownerCounts]
}
