// Every query the plugin makes lives here. Callers pass an optional Kysely
// instance or transaction; the store scopes it to the plugin's schema.
import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { Grant, GranteeRef, GrantInput, Principal, ResourceRef, RevokeInput } from '../fastify-plugin.js'
import type { DefaultDenyDatabase, GrantRow } from './database.js'
import type { Facts } from './decide.js'

type Db = Kysely<DefaultDenyDatabase>
type GrantEb = ExpressionBuilder<DefaultDenyDatabase, 'default_deny_grant'>

function granteeColumns (grantee: GranteeRef) {
  return grantee.kind === 'anonymous'
    ? { principal_kind: 'anonymous' as const, principal_id: '' }
    : { principal_kind: grantee.kind, principal_id: grantee.id }
}

function toGrantee (row: Pick<GrantRow, 'principal_kind' | 'principal_id'>): GranteeRef {
  return row.principal_kind === 'anonymous'
    ? { kind: 'anonymous' }
    : { kind: row.principal_kind, id: row.principal_id }
}

/** Grants that count for `principal`: its own, its groups', and everyone's. */
function heldBy (eb: GrantEb, principal: Principal) {
  const alternatives = [eb('principal_kind', '=', 'anonymous')]
  if (principal.kind === 'user' && principal.id !== null) {
    alternatives.push(eb.and([eb('principal_kind', '=', 'user'), eb('principal_id', '=', principal.id)]))
  }
  if (principal.groups.length > 0) {
    alternatives.push(eb.and([eb('principal_kind', '=', 'group'), eb('principal_id', 'in', principal.groups)]))
  }
  return eb.or(alternatives)
}

function onResource (eb: GrantEb, target: ResourceRef) {
  const type = eb('resource_type', '=', target.resource)
  return target.id === null
    ? eb.and([type, eb('resource_id', 'is', null)])
    : eb.and([type, eb.or([eb('resource_id', '=', target.id), eb('resource_id', 'is', null)])])
}

function unexpired (eb: GrantEb) {
  return eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)])
}

function sameGrant (eb: GrantEb, input: RevokeInput) {
  const grantee = granteeColumns(input.grantee)
  return eb.and([
    eb('resource_type', '=', input.resource),
    input.id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', input.id),
    eb('principal_kind', '=', grantee.principal_kind),
    eb('principal_id', '=', grantee.principal_id),
    eb('privilege', '=', input.privilege)
  ])
}

export class GrantStore {
  readonly #db: Kysely<any>
  readonly #schema: string

  constructor (db: Kysely<any>, schema: string) {
    this.#db = db
    this.#schema = schema
  }

  #scoped (db?: Kysely<any>): Db {
    return (db ?? this.#db).withSchema(this.#schema) as Db
  }

  /** One round trip: the privileges `principal` holds on the target, and its owner. */
  async facts (principal: Principal, target: ResourceRef, db?: Kysely<any>): Promise<Facts> {
    const scoped = this.#scoped(db)
    const row = await scoped.selectNoFrom((eb) => [
      target.id === null
        ? sql<string | null>`null::text`.as('owner')
        : eb.selectFrom('default_deny_resource')
          .select('owner_id')
          .where('resource_type', '=', target.resource)
          .where('resource_id', '=', target.id)
          .as('owner'),
      sql<string[]>`array(${eb.selectFrom('default_deny_grant')
        .select('privilege')
        .distinct()
        .where((g) => g.and([onResource(g, target), heldBy(g, principal), unexpired(g)]))})`.as('privileges')
    ]).executeTakeFirstOrThrow()
    return { owner: row.owner ?? null, privileges: row.privileges }
  }

  async grant (input: GrantInput, db?: Kysely<any>): Promise<{ created: boolean }> {
    const scoped = this.#scoped(db)
    const expiresAt = input.expiresAt ?? null
    const inserted = await scoped.insertInto('default_deny_grant')
      .values({
        ...granteeColumns(input.grantee),
        resource_type: input.resource,
        resource_id: input.id,
        privilege: input.privilege,
        granted_by: input.grantedBy ?? null,
        expires_at: expiresAt
      })
      .onConflict((oc) => oc.constraint('default_deny_grant_unique').doNothing())
      .returning('id')
      .execute()
    if (inserted.length > 0) return { created: true }
    // Granting again renews or changes the expiry; it never adds a row.
    await scoped.updateTable('default_deny_grant')
      .set({ expires_at: expiresAt })
      .where((eb) => eb.and([sameGrant(eb, input), eb('expires_at', 'is distinct from', expiresAt)]))
      .execute()
    return { created: false }
  }

  async revoke (input: RevokeInput, db?: Kysely<any>): Promise<{ removed: boolean }> {
    const result = await this.#scoped(db).deleteFrom('default_deny_grant')
      .where((eb) => sameGrant(eb, input))
      .executeTakeFirst()
    return { removed: result.numDeletedRows > 0n }
  }

  async listGrants (target: ResourceRef, db?: Kysely<any>): Promise<Grant[]> {
    const rows = await this.#scoped(db).selectFrom('default_deny_grant')
      .select(['principal_kind', 'principal_id', 'resource_type', 'resource_id', 'privilege', 'granted_by', 'granted_at', 'expires_at'])
      .where('resource_type', '=', target.resource)
      .where((eb) => target.id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', target.id))
      .orderBy('principal_kind').orderBy('principal_id').orderBy('privilege')
      .execute()
    return rows.map((row) => ({
      resource: row.resource_type,
      id: row.resource_id,
      grantee: toGrantee(row),
      privilege: row.privilege as Grant['privilege'],
      grantedBy: row.granted_by,
      grantedAt: new Date(row.granted_at),
      expiresAt: row.expires_at === null ? null : new Date(row.expires_at)
    }))
  }

  async setOwner (target: { resource: string, id: string, owner: string | null }, db?: Kysely<any>): Promise<void> {
    await this.#scoped(db).insertInto('default_deny_resource')
      .values({ resource_type: target.resource, resource_id: target.id, owner_id: target.owner })
      .onConflict((oc) => oc.columns(['resource_type', 'resource_id']).doUpdateSet({ owner_id: target.owner }))
      .execute()
  }

  async getOwner (target: { resource: string, id: string }, db?: Kysely<any>): Promise<string | null> {
    const row = await this.#scoped(db).selectFrom('default_deny_resource')
      .select('owner_id')
      .where('resource_type', '=', target.resource)
      .where('resource_id', '=', target.id)
      .executeTakeFirst()
    return row?.owner_id ?? null
  }

  async forgetResource (target: { resource: string, id: string }, db?: Kysely<any>): Promise<void> {
    const run = async (trx: Kysely<any>) => {
      const scoped = this.#scoped(trx)
      await scoped.deleteFrom('default_deny_grant')
        .where('resource_type', '=', target.resource).where('resource_id', '=', target.id).execute()
      await scoped.deleteFrom('default_deny_resource')
        .where('resource_type', '=', target.resource).where('resource_id', '=', target.id).execute()
    }
    // Inside the caller's transaction when given one, otherwise in our own.
    if (db !== undefined) await run(db)
    else await this.#db.transaction().execute(run)
  }
}
