// The route check: one yes/no statement, its text fixed at startup, that
// probes the grant table's unique index once per way a grant can count and
// stops at the first hit. It decides exactly as `holds` does on the full facts
// (the property test `check-agrees` holds them to it); explain and the grant
// API keep reading the full facts.
import { CompiledQuery, type Kysely } from 'kysely'
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import type { CheckPlan } from '../decision/policy.js'
import type { Budget } from './deadline.js'

/**
 * Statements starting with this comment are sent as named prepared statements
 * by the pools the plugin builds (`postgresKysely`, `kyselyPool`): parsed and
 * planned once per connection, then only bound and executed.
 */
export const PREPARED_MARKER = '/* fastify-default-deny: prepared */'

/**
 * Runs one statement on a connection of the pool behind a Kysely instance the
 * plugin built, skipping Kysely's executor: the route check is the one
 * statement on every request's path. With a budget it sends nothing once the
 * budget is spent while waiting for the connection.
 */
export type DirectRunner = (text: string, values: unknown[], budget?: Budget) => Promise<ReadonlyArray<Record<string, unknown>>>

const runners = new WeakMap<Kysely<any>, DirectRunner>()

/** Lets the check reach the pool behind `db` directly. */
export function registerRunner (db: Kysely<any>, runner: DirectRunner): void {
  runners.set(db, runner)
}

// Probes, in the order they are tried: the resource's own grants (one index
// range: type, id, then the principal alternatives), the owner, then the
// type-level grants of the user, its groups and everyone. The anonymous
// type-level probe deliberately has no `principal_id = ''`: with it the
// generic plan picks the wrong index.
function checkText (schema: string): string {
  const grant = `"${schema}".default_deny_grant`
  const live = '(expires_at is null or expires_at > now())'
  const typeLevel = `resource_type = $1 and resource_id is null and privilege = any($3::text[]) and ${live}`
  return `${PREPARED_MARKER} select exists (
  select 1 from ${grant} where resource_type = $1 and resource_id = $2 and privilege = any($3::text[])
    and (principal_kind = 'anonymous' or (principal_kind = 'user' and principal_id = $4) or (principal_kind = 'group' and principal_id = any($5::text[])))
    and ${live}
  union all select 1 from "${schema}".default_deny_resource where $6::boolean and resource_type = $1 and resource_id = $2 and owner_id = $4
  union all select 1 from ${grant} where principal_kind = 'user' and principal_id = $4 and ${typeLevel}
  union all select 1 from ${grant} where principal_kind = 'group' and principal_id = any($5::text[]) and ${typeLevel}
  union all select 1 from ${grant} where principal_kind = 'anonymous' and ${typeLevel}
) as allowed`
}

const allowed = (rows: ReadonlyArray<Record<string, unknown>>): boolean => rows[0]?.allowed === true

export class CheckStatement {
  readonly #db: Kysely<any>
  readonly #text: string
  readonly #direct: DirectRunner | undefined

  constructor (db: Kysely<any>, schema: string) {
    this.#db = db
    this.#text = checkText(schema)
    this.#direct = runners.get(db)
  }

  /**
   * Whether `principal` holds what `plan` looks for on the target. With a
   * budget, a check that waited past it for a connection sends no query.
   * `db` (a host transaction) runs it there instead.
   */
  run (principal: Principal, target: ResourceRef, plan: CheckPlan, budget?: Budget, db?: Kysely<any>): Promise<boolean> {
    if (plan.accepted.length === 0 && !plan.ownerCounts) return Promise.resolve(false)
    const values = [
      target.resource,
      target.id,
      plan.accepted,
      principal.kind === 'user' ? principal.id : null,
      principal.groups,
      plan.ownerCounts
    ]
    if (this.#direct !== undefined && db === undefined) return this.#direct(this.#text, values, budget).then(allowed)
    return this.#viaKysely(values, budget, db)
  }

  async #viaKysely (values: unknown[], budget?: Budget, db?: Kysely<any>): Promise<boolean> {
    const query = CompiledQuery.raw(this.#text, values)
    if (budget === undefined || db !== undefined) {
      const result = await (db ?? this.#db).executeQuery<{ allowed: boolean }>(query)
      return result.rows[0]?.allowed === true
    }
    return await this.#db.connection().execute(async (conn) => {
      budget.assertLive()
      const result = await conn.executeQuery<{ allowed: boolean }>(query)
      return result.rows[0]?.allowed === true
    })
  }
}
