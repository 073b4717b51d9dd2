// Every query the plugin makes lives here. Callers pass an optional Kysely
// instance or transaction; the store scopes it to the plugin's schema.
import { createHash } from 'node:crypto'
import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { AuditEntry, AuditVerification, Grant, GranteeRef, Principal, ResourceRef } from '../../fastify-plugin.js'
import type { AuditTable, DefaultDenyDatabase, GrantRow } from './schema.js'
import { UNBOUNDED, type Budget } from './deadline.js'
import type { Facts } from '../decision/decide.js'
import type { Source } from '../decision/explain.js'

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
    // One array parameter, however many groups: a list of one parameter per
    // group breaks past the protocol's 65,535 bind parameters.
    alternatives.push(eb.and([eb('principal_kind', '=', 'group'), eb('principal_id', '=', anyOf(principal.groups))]))
  }
  return eb.or(alternatives)
}

function anyOf (values: readonly string[]) {
  return sql<string>`any(${[...values]}::text[])`
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

/** Who changed what, and why: recorded with every change. */
export interface WriteContext {
  actor: string | null
  requestId: string | null
  reason: string | null
}

export interface AuditFilter {
  resource?: ResourceRef
  grantee?: GranteeRef
  /** Only entries with a smaller `seq` (the previous page's last one). */
  before?: string
  limit: number
}


export const GENESIS_HASH = '0'.repeat(64)
/** How many bad entries a verification lists; it counts them all. */
export const MAX_REPORTED = 100
const HASHED_COLUMNS = [
  'at', 'actor', 'action', 'principal_kind', 'principal_id', 'resource_type', 'resource_id',
  'before', 'after', 'request_id', 'reason'
] as const

/** An audit row read back differs from what was hashed: refused, rolled back. */
export class AuditMismatch extends Error {
  constructor () {
    super('the database changed an audit value on the way in; the change was refused')
    this.name = 'AuditMismatch'
  }
}
// Any constant works: it only has to differ from the per-resource lock keys' space.
const AUDIT_LOCK = sql`hashtextextended('fastify-default-deny/audit', 0)`

function auditHash (prev: string, row: Omit<AuditTable, 'seq' | 'prev_hash' | 'hash' | 'before' | 'after'> & { before: string[], after: string[] }): string {
  // Positional JSON: stable across runtimes, and a field moved between columns shows.
  const canonical = JSON.stringify([
    prev, row.at.toISOString(), row.actor, row.action, row.principal_kind, row.principal_id,
    row.resource_type, row.resource_id, row.before, row.after, row.request_id, row.reason
  ])
  return createHash('sha256').update(canonical).digest('hex')
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort()

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

  /**
   * One round trip: the privileges `principal` holds on the target, and its
   * owner. With a budget, a check that waited past it for a connection sends
   * no query at all.
   */
  async facts (principal: Principal, target: ResourceRef, db?: Kysely<any>, budget?: Budget): Promise<Facts> {
    if (budget !== undefined && db === undefined) {
      return await this.#db.connection().execute(async (conn) => {
        budget.assertLive()
        return await this.facts(principal, target, conn)
      })
    }
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

  /**
   * The same facts, read inside a write transaction with FOR SHARE: a
   * concurrent revoke of the rows that give the actor its rights waits until
   * this transaction ends, so a grant never commits after that revoke.
   */
  async lockedFacts (trx: Kysely<any>, principal: Principal, target: ResourceRef): Promise<Facts> {
    const scoped = this.#scoped(trx)
    const grants = await scoped.selectFrom('default_deny_grant')
      .select('privilege')
      .where((g) => g.and([onResource(g, target), heldBy(g, principal), unexpired(g)]))
      .forShare()
      .execute()
    const owner = target.id === null
      ? undefined
      : await scoped.selectFrom('default_deny_resource')
        .select('owner_id')
        .where('resource_type', '=', target.resource)
        .where('resource_id', '=', target.id)
        .forShare()
        .executeTakeFirst()
    return { owner: owner?.owner_id ?? null, privileges: sorted(grants.map((g) => g.privilege)) }
  }

  /** Every grant on the target that counts for `principal`, with where it comes from. */
  async sources (principal: Principal, target: ResourceRef, db?: Kysely<any>): Promise<Source[]> {
    const rows = await this.#scoped(db).selectFrom('default_deny_grant')
      .select(['privilege', 'principal_kind', 'principal_id', 'resource_id', 'expires_at'])
      .where((g) => g.and([onResource(g, target), heldBy(g, principal), unexpired(g)]))
      .orderBy('privilege').orderBy('principal_kind').orderBy('principal_id')
      .execute()
    return rows.map((row) => ({
      privilege: row.privilege,
      grantee: toGrantee(row),
      typeLevel: row.resource_id === null,
      expiresAt: row.expires_at === null ? null : new Date(row.expires_at)
    }))
  }

  /**
   * Runs `work` in a transaction holding a lock per resource (sorted, so two
   * writers never deadlock). Inside the caller's transaction when given one
   * (its time limits are then the caller's). Otherwise the budget bounds it:
   * on the server, every statement and lock wait is limited to the time left,
   * so nothing keeps running once the caller has its answer; and work that
   * ran out of budget rolls back instead of committing.
   */
  async write<T> (
    db: Kysely<any> | undefined, targets: ResourceRef[], work: (trx: Kysely<any>) => Promise<T>, budget: Budget = UNBOUNDED
  ): Promise<T> {
    const keys = sorted(targets.map((t) => `${t.resource}/${t.id ?? ''}`))
    const run = async (trx: Kysely<any>, bounded: boolean) => {
      budget.assertLive()
      if (bounded) {
        const ms = String(budget.remaining())
        await sql`select set_config('lock_timeout', ${ms}, true), set_config('statement_timeout', ${ms}, true)`.execute(trx)
      }
      for (const key of keys) {
        await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 1))`.execute(trx)
      }
      const result = await work(trx)
      budget.commit()
      return result
    }
    if (db?.isTransaction === true) return await run(db, false)
    return await (db ?? this.#db).transaction().execute(async (trx) => await run(trx, budget !== UNBOUNDED))
  }

  /** The privileges `grantee` holds explicitly (not through others) on the target. */
  async explicitPrivileges (trx: Kysely<any>, target: ResourceRef, grantee: GranteeRef): Promise<string[]> {
    const columns = granteeColumns(grantee)
    const rows = await this.#scoped(trx).selectFrom('default_deny_grant')
      .select('privilege')
      .where('resource_type', '=', target.resource)
      .where((eb) => target.id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', target.id))
      .where('principal_kind', '=', columns.principal_kind)
      .where('principal_id', '=', columns.principal_id)
      .execute()
    return sorted(rows.map((row) => row.privilege))
  }

  /**
   * Makes `grantee` hold exactly `privileges` on the target (`only` limits the
   * change to those privileges: adding one is `{ privileges: [p], only: [p] }`).
   * Appends an audit entry when anything changed. Returns before and after.
   */
  async setPrivileges (
    trx: Kysely<any>,
    change: { target: ResourceRef, grantee: GranteeRef, privileges: string[], only?: string[], expiresAt?: Date | null },
    context: WriteContext
  ): Promise<{ before: string[], after: string[] }> {
    const { target, grantee } = change
    const scoped = this.#scoped(trx)
    const before = await this.explicitPrivileges(trx, target, grantee)
    const scope = change.only === undefined ? null : new Set(change.only)
    const wanted = new Set(change.privileges)
    const remove = before.filter((p) => !wanted.has(p) && (scope === null || scope.has(p)))
    const add = [...wanted].filter((p) => !before.includes(p))
    const columns = granteeColumns(grantee)
    const expiresAt = change.expiresAt ?? null
    if (remove.length > 0) {
      await scoped.deleteFrom('default_deny_grant')
        .where('resource_type', '=', target.resource)
        .where((eb) => target.id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', target.id))
        .where('principal_kind', '=', columns.principal_kind)
        .where('principal_id', '=', columns.principal_id)
        .where('privilege', 'in', remove)
        .execute()
    }
    if (add.length > 0) {
      await scoped.insertInto('default_deny_grant')
        .values(add.map((privilege) => ({
          ...columns,
          resource_type: target.resource,
          resource_id: target.id,
          privilege,
          granted_by: context.actor,
          expires_at: expiresAt
        })))
        .execute()
    }
    // Granting again renews or changes the expiry; it never adds a row.
    const kept = [...wanted].filter((p) => before.includes(p))
    if (change.expiresAt !== undefined && kept.length > 0) {
      await scoped.updateTable('default_deny_grant')
        .set({ expires_at: expiresAt })
        .where('resource_type', '=', target.resource)
        .where((eb) => target.id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', target.id))
        .where('principal_kind', '=', columns.principal_kind)
        .where('principal_id', '=', columns.principal_id)
        .where('privilege', 'in', kept)
        .where('expires_at', 'is distinct from', expiresAt)
        .execute()
    }
    const after = sorted([...before.filter((p) => !remove.includes(p)), ...add])
    if (remove.length > 0 || add.length > 0) {
      const action = remove.length === 0 ? 'grant' : add.length === 0 ? 'revoke' : 'replace'
      await this.appendAudit(trx, { action, grantee, target, before, after }, context)
    }
    return { before, after }
  }

  /** The grantees that hold anything explicitly on the target. */
  async grantees (trx: Kysely<any>, target: ResourceRef): Promise<GranteeRef[]> {
    const rows = await this.#scoped(trx).selectFrom('default_deny_grant')
      .select(['principal_kind', 'principal_id'])
      .distinct()
      .where('resource_type', '=', target.resource)
      .where((eb) => target.id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', target.id))
      .orderBy('principal_kind').orderBy('principal_id')
      .execute()
    return rows.map(toGrantee)
  }

  /**
   * How many can still manage the target: its owner and every unexpired
   * grant of a privilege in `managing` (`manage` and whatever implies it).
   */
  async managerCount (trx: Kysely<any>, target: ResourceRef & { id: string }, managing: readonly string[]): Promise<number> {
    const scoped = this.#scoped(trx)
    const grants = await scoped.selectFrom('default_deny_grant')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('resource_type', '=', target.resource)
      .where((eb) => eb.or([eb('resource_id', '=', target.id), eb('resource_id', 'is', null)]))
      .where('privilege', '=', anyOf(managing))
      .where((eb) => unexpired(eb))
      .executeTakeFirstOrThrow()
    const owner = await this.getOwner(target, trx)
    return grants.n + (owner === null ? 0 : 1)
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

  async setOwner (trx: Kysely<any>, target: { resource: string, id: string, owner: string | null }, context: WriteContext): Promise<void> {
    const before = await this.getOwner(target, trx)
    if (before === target.owner) return
    await this.#scoped(trx).insertInto('default_deny_resource')
      .values({ resource_type: target.resource, resource_id: target.id, owner_id: target.owner })
      .onConflict((oc) => oc.columns(['resource_type', 'resource_id']).doUpdateSet({ owner_id: target.owner }))
      .execute()
    await this.appendAudit(trx, {
      action: 'owner',
      grantee: null,
      target,
      before: before === null ? [] : [before],
      after: target.owner === null ? [] : [target.owner]
    }, context)
  }

  async getOwner (target: { resource: string, id: string }, db?: Kysely<any>): Promise<string | null> {
    const row = await this.#scoped(db).selectFrom('default_deny_resource')
      .select('owner_id')
      .where('resource_type', '=', target.resource)
      .where('resource_id', '=', target.id)
      .executeTakeFirst()
    return row?.owner_id ?? null
  }

  async forgetResource (trx: Kysely<any>, target: { resource: string, id: string }, context: WriteContext): Promise<void> {
    const scoped = this.#scoped(trx)
    const grants = await scoped.deleteFrom('default_deny_grant')
      .where('resource_type', '=', target.resource).where('resource_id', '=', target.id)
      .returning(['principal_kind', 'principal_id', 'privilege'])
      .execute()
    const owner = await scoped.deleteFrom('default_deny_resource')
      .where('resource_type', '=', target.resource).where('resource_id', '=', target.id)
      .returning('owner_id')
      .executeTakeFirst()
    if (grants.length === 0 && owner === undefined) return
    await this.appendAudit(trx, {
      action: 'forget',
      grantee: null,
      target,
      before: sorted(grants.map((g) => `${g.principal_kind}:${g.principal_id}:${g.privilege}`)
        .concat(owner?.owner_id != null ? [`owner:${owner.owner_id}`] : [])),
      after: []
    }, context)
  }

  /** Appends one hash-chained entry. Entries are ordered by commit: the chain lock is held to the end. */
  async appendAudit (
    trx: Kysely<any>,
    entry: { action: AuditTable['action'], grantee: GranteeRef | null, target: ResourceRef, before: string[], after: string[] },
    context: WriteContext
  ): Promise<void> {
    await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx)
    const scoped = this.#scoped(trx)
    const last = await scoped.selectFrom('default_deny_audit').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst()
    const prev = last?.hash ?? GENESIS_HASH
    const columns = entry.grantee === null ? null : granteeColumns(entry.grantee)
    const row = {
      at: new Date(),
      actor: context.actor,
      action: entry.action,
      principal_kind: columns?.principal_kind ?? null,
      principal_id: columns?.principal_id ?? null,
      resource_type: entry.target.resource,
      resource_id: entry.target.id,
      before: entry.before,
      after: entry.after,
      request_id: context.requestId,
      reason: context.reason
    }
    const hash = auditHash(prev, row)
    // Hash what is stored, not what was sent: a value PostgreSQL would change
    // on the way in (a lone surrogate becomes U+FFFD) would leave a row that
    // never verifies. Input validation refuses such values; this refuses the
    // write if one ever gets through.
    const stored = await scoped.insertInto('default_deny_audit').values({
      ...row,
      before: JSON.stringify(row.before),
      after: JSON.stringify(row.after),
      prev_hash: prev,
      hash
    }).returning(HASHED_COLUMNS).executeTakeFirstOrThrow()
    if (auditHash(prev, { ...stored, at: new Date(stored.at) }) !== hash) throw new AuditMismatch()
  }

  async listAudit (filter: AuditFilter, db?: Kysely<any>): Promise<AuditEntry[]> {
    let query = this.#scoped(db).selectFrom('default_deny_audit').selectAll()
    if (filter.resource !== undefined) {
      const { resource, id } = filter.resource
      query = query.where('resource_type', '=', resource)
        .where((eb) => id === null ? eb('resource_id', 'is', null) : eb('resource_id', '=', id))
    }
    if (filter.grantee !== undefined) {
      const columns = granteeColumns(filter.grantee)
      query = query.where('principal_kind', '=', columns.principal_kind).where('principal_id', '=', columns.principal_id)
    }
    if (filter.before !== undefined) query = query.where('seq', '<', filter.before)
    const rows = await query.orderBy('seq', 'desc').limit(filter.limit).execute()
    return rows.map((row) => ({
      seq: String(row.seq),
      at: new Date(row.at),
      actor: row.actor,
      action: row.action,
      grantee: row.principal_kind === null ? null : toGrantee({ principal_kind: row.principal_kind, principal_id: row.principal_id ?? '' }),
      resource: row.resource_type,
      id: row.resource_id,
      before: row.before,
      after: row.after,
      requestId: row.request_id,
      reason: row.reason,
      hash: row.hash
    }))
  }

  /**
   * Recomputes the whole chain in order and reports every entry that does not
   * fit (the first `MAX_REPORTED` of them): `hash` when an entry's content no
   * longer matches its own hash, `link` when it does not follow the entry
   * before it (one was deleted or inserted). The chain goes on from each
   * stored hash, so one edited entry does not make every later one bad.
   */
  async verifyAudit (db?: Kysely<any>): Promise<AuditVerification> {
    const scoped = this.#scoped(db)
    const broken: AuditVerification['broken'] = []
    let brokenCount = 0
    let prev = GENESIS_HASH
    let after = '0'
    let entries = 0
    for (;;) {
      const rows = await scoped.selectFrom('default_deny_audit').selectAll()
        .where('seq', '>', after).orderBy('seq').limit(1000).execute()
      if (rows.length === 0) break
      for (const row of rows) {
        const problem = row.hash !== auditHash(row.prev_hash, { ...row, at: new Date(row.at) })
          ? 'hash'
          : row.prev_hash !== prev ? 'link' : null
        if (problem !== null) {
          brokenCount++
          if (broken.length < MAX_REPORTED) broken.push({ seq: String(row.seq), problem })
        }
        prev = row.hash
        after = String(row.seq)
        entries++
      }
    }
    return { ok: brokenCount === 0, entries, brokenAt: broken[0]?.seq ?? null, broken, brokenCount }
  }
}
