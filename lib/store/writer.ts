// The write side of the grants. Every change runs inside `write`, which holds
// a lock per resource; the methods that change rows take its transaction and
// append the audit entry in the same transaction.
import { sql, type Kysely } from 'kysely'
import type { GranteeRef, Principal, ResourceRef } from '../../fastify-plugin.js'
import type { Facts } from '../decision/decide.js'
import { planGrants, type PrivilegesWanted } from '../decision/grant-change.js'
import { UNBOUNDED, type Budget } from './deadline.js'
import type { AuditLog, ScheduledItem, WriteContext } from './audit.js'
import { anyOf, granteeColumns, ofGrantee, onTarget, sorted, toGrantee } from './predicates.js'
import { effective, expired, inEffectOn, inherited, ownedAncestors } from './rule-conditions.js'
import { lockMemberships } from './members.js'
import { ownerOf } from './reader.js'
import { lockHierarchy } from './tree.js'
import { insertPosition } from './positions.js'
import { lockKey, scoped, type StoreProps, type Trx } from './scope.js'
import { grantMany, type ManyItem } from './grant-many.js'

type Instance = ResourceRef & { id: string }

/** One grantee's privileges on one target, as `setPrivileges` changes them (see `planGrants`). */
export interface PrivilegeChange extends PrivilegesWanted {
  target: ResourceRef
  grantee: GranteeRef
}

/** What `setPrivileges` did: the privileges before and after, those whose grant changed, and every grant's schedule. */
export interface GrantChange {
  before: string[]
  after: string[]
  /** Added, taken, or counting from or until another instant; empty when nothing changed. */
  changed: string[]
  schedule: { before: ScheduledItem[], after: ScheduledItem[] }
}

const instant = (value: Date | string | null) => value === null ? null : new Date(value)

export interface WriterProps extends StoreProps {
  readonly audit: AuditLog
}

/**
 * @example
 * await writer.write(undefined, [target], async (trx) =>
 *   await writer.setPrivileges(trx, { target, grantee, privileges: ['read'], only: ['read'] }, context))
 */
export class GrantWriter {
  readonly #props: WriterProps

  constructor (props: WriterProps) {
    this.#props = Object.freeze({ ...props })
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
    db: Kysely<any> | undefined, targets: ResourceRef[], work: (trx: Trx) => Promise<T>, budget: Budget = UNBOUNDED
  ): Promise<T> {
    const keys = sorted(targets.map((t) => lockKey(this.#props.schema, 'resource', t.resource, t.id ?? '')))
    const run = async (trx: Trx, bounded: boolean) => {
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
    if (db?.isTransaction === true) return await run(db as Trx, false)
    return await (db ?? this.#props.db).transaction().execute(async (trx) => await run(trx, budget !== UNBOUNDED))
  }

  /** The revision of what has committed so far: read after a commit, it covers that commit. */
  async position (db?: Kysely<any>): Promise<bigint> {
    return await insertPosition(db ?? this.#props.db)
  }

  /**
   * Inside `write` with no targets: holds every change of grants off until
   * the transaction ends (SHARE ROW EXCLUSIVE conflicts with their inserts
   * and deletes; checks and FOR SHARE reads go on). A bulk import takes this
   * one lock instead of one per resource: 40,000 of those in one
   * transaction ran PostgreSQL out of lock space ("out of shared memory").
   */
  async lockGrants (trx: Trx): Promise<void> {
    await sql`lock table ${sql.id(this.#props.schema, 'default_deny_grant')} in share row exclusive mode`.execute(trx)
  }

  /**
   * The facts of a check, read with FOR SHARE: a concurrent revoke of the
   * rows that give the actor its rights waits until this transaction ends,
   * so a grant never commits after that revoke; the same holds for the
   * memberships that put the actor in a group.
   */
  async lockedFacts (trx: Trx, principal: Principal, target: ResourceRef): Promise<Facts> {
    const db = scoped(this.#props, trx)
    await lockMemberships(this.#props, trx, principal)
    const grants = await db.selectFrom('default_deny_grant')
      .select('privilege')
      .where(effective(principal, target, this.#props))
      .forShare()
      .execute()
    const owner = target.id === null
      ? undefined
      : await db.selectFrom('default_deny_resource')
        .select('owner_id')
        .where('resource_type', '=', target.resource)
        .where('resource_id', '=', target.id)
        .forShare()
        .executeTakeFirst()
    const facts = { owner: owner?.owner_id ?? null, privileges: sorted(grants.map((g) => g.privilege)) }
    if (this.#props.hierarchy == null || target.id === null) return facts
    const found: Array<{ privilege: string | null, edges: string[] }> = []
    for (const statement of inherited(principal, target as Instance, this.#props, true)) found.push(...(await statement.execute(trx)).rows)
    return { ...facts, inherited: found.map((row) => ({ privilege: row.privilege, edges: row.edges })) }
  }

  /** The privileges `grantee` holds explicitly (not through others) on the target. */
  async explicitPrivileges (trx: Trx, target: ResourceRef, grantee: GranteeRef): Promise<string[]> {
    const rows = await scoped(this.#props, trx).selectFrom('default_deny_grant')
      .select('privilege')
      .where((eb) => eb.and([onTarget(eb, target), ofGrantee(eb, grantee)]))
      .execute()
    return sorted(rows.map((row) => row.privilege))
  }

  /** The grants `grantee` holds explicitly on the target, each with its schedule, by privilege. */
  async explicitGrants (trx: Trx, target: ResourceRef, grantee: GranteeRef): Promise<ScheduledItem[]> {
    const rows = await scoped(this.#props, trx).selectFrom('default_deny_grant')
      .select(['privilege', 'starts_at', 'expires_at'])
      .where((eb) => eb.and([onTarget(eb, target), ofGrantee(eb, grantee)]))
      .orderBy('privilege')
      .execute()
    return rows.map((row) => ({ privilege: row.privilege, startsAt: instant(row.starts_at), expiresAt: instant(row.expires_at) }))
  }

  /**
   * Makes `grantee` hold exactly `privileges` on the target (within `only`),
   * each with its schedule. Appends one audit entry, with every grant's
   * schedule before and after, when anything changed: a privilege added or
   * taken, or when a kept one counts from or until.
   */
  async setPrivileges (trx: Trx, change: PrivilegeChange, context: WriteContext): Promise<GrantChange> {
    const { target, grantee } = change
    const db = scoped(this.#props, trx)
    const held = await this.explicitGrants(trx, target, grantee)
    const plan = planGrants(held, change)
    if (plan.remove.length > 0) {
      await db.deleteFrom('default_deny_grant')
        .where((eb) => eb.and([onTarget(eb, target), ofGrantee(eb, grantee)]))
        .where('privilege', 'in', plan.remove)
        .execute()
    }
    if (plan.add.length > 0) {
      await db.insertInto('default_deny_grant')
        .values(plan.add.map(({ privilege, expiresAt, startsAt }) => ({
          ...granteeColumns(grantee),
          resource_type: target.resource,
          resource_id: target.id,
          privilege,
          granted_by: context.actor,
          expires_at: expiresAt,
          starts_at: startsAt
        })))
        .execute()
    }
    // Granting again renews or changes the schedule; it never adds a row.
    for (const { privilege, expiresAt, startsAt } of plan.reschedule) {
      await db.updateTable('default_deny_grant')
        .set({ expires_at: expiresAt, starts_at: startsAt })
        .where((eb) => eb.and([onTarget(eb, target), ofGrantee(eb, grantee)]))
        .where('privilege', '=', privilege)
        .execute()
    }
    const { remove, add, after, changed } = plan
    if (changed.length > 0) {
      const action = remove.length > 0 && add.length > 0 ? 'replace' : remove.length > 0 ? 'revoke' : add.length > 0 ? 'grant' : 'schedule'
      await this.#props.audit.append(trx, { action, grantee, target, before: held, after }, context)
    }
    return { before: held.map((g) => g.privilege), after: after.map((g) => g.privilege), changed, schedule: { before: held, after } }
  }

  /** `setPrivileges` of one privilege per item, in order, in a few statements (see grant-many.ts). */
  async grantMany (trx: Trx, items: readonly ManyItem[]): Promise<boolean[]> {
    return await grantMany(this.#props, trx, items)
  }

  /** The grantees that hold anything explicitly on the target. */
  async grantees (trx: Trx, target: ResourceRef): Promise<GranteeRef[]> {
    const rows = await scoped(this.#props, trx).selectFrom('default_deny_grant')
      .select(['principal_kind', 'principal_id'])
      .distinct()
      .where((eb) => onTarget(eb, target))
      .orderBy('principal_kind').orderBy('principal_id')
      .execute()
    return rows.map(toGrantee)
  }

  /**
   * How many can still manage the target: its owner and every in-effect
   * grant of a privilege in `managing` (`manage` and whatever implies it).
   */
  async managerCount (trx: Trx, target: Instance, managing: readonly string[], blocked: readonly string[] = []): Promise<number> {
    const db = scoped(this.#props, trx)
    const grants = await db.selectFrom('default_deny_grant')
      .select(sql<number>`count(*)::int`.as('n'))
      .where(inEffectOn(target, this.#props, blocked))
      .where('privilege', '=', anyOf(managing))
      .executeTakeFirstOrThrow()
    const owners = (await ownedAncestors(target, this.#props, blocked).execute(trx)).rows[0] as unknown as { count: number } | undefined
    return grants.n + (await this.owner(trx, target) === null ? 0 : 1) + Number(owners?.count ?? 0)
  }

  /** The owner, read inside the transaction. */
  async owner (trx: Trx, target: Instance): Promise<string | null> {
    return await ownerOf(scoped(this.#props, trx), target)
  }

  async setOwner (trx: Trx, target: Instance & { owner: string | null }, context: WriteContext): Promise<void> {
    const before = await this.owner(trx, target)
    if (before === target.owner) return
    await scoped(this.#props, trx).insertInto('default_deny_resource')
      .values({ resource_type: target.resource, resource_id: target.id, owner_id: target.owner })
      .onConflict((oc) => oc.columns(['resource_type', 'resource_id']).doUpdateSet({ owner_id: target.owner }))
      .execute()
    await this.#props.audit.append(trx, {
      action: 'owner',
      grantee: null,
      target,
      before: before === null ? [] : [before],
      after: target.owner === null ? [] : [target.owner]
    }, context)
  }

  /**
   * Deletes up to `limit` grants that expired, oldest first, skipping rows
   * another transaction holds, and audits them (one `purge` entry per
   * grantee and resource, each grant with its schedule); returns how many.
   * Short transactions, so the purge never holds many locks for long.
   */
  async purgeExpired (trx: Trx, limit: number, context: WriteContext): Promise<number> {
    const db = scoped(this.#props, trx)
    const rows = await db.deleteFrom('default_deny_grant')
      .where('id', 'in', db.selectFrom('default_deny_grant').select('id')
        .where(expired()).orderBy('expires_at').limit(limit).forUpdate().skipLocked())
      .returning(['principal_kind', 'principal_id', 'resource_type', 'resource_id', 'privilege', 'starts_at', 'expires_at'])
      .execute()
    const byGrantee = new Map<string, { grantee: GranteeRef, target: ResourceRef, grants: ScheduledItem[] }>()
    for (const row of rows) {
      const key = JSON.stringify([row.principal_kind, row.principal_id, row.resource_type, row.resource_id])
      const entry = byGrantee.get(key) ?? { grantee: toGrantee(row), target: { resource: row.resource_type, id: row.resource_id }, grants: [] }
      entry.grants.push({ privilege: row.privilege, startsAt: instant(row.starts_at), expiresAt: instant(row.expires_at) })
      byGrantee.set(key, entry)
    }
    for (const key of sorted([...byGrantee.keys()])) {
      const { grantee, target, grants } = byGrantee.get(key) as { grantee: GranteeRef, target: ResourceRef, grants: ScheduledItem[] }
      grants.sort((a, b) => a.privilege < b.privilege ? -1 : a.privilege > b.privilege ? 1 : 0)
      await this.#props.audit.append(trx, { action: 'purge', grantee, target, before: grants, after: [] }, context)
    }
    return rows.length
  }

  /** Drops every grant on the resource and its owner, in one audit entry (each grant with its schedule). */
  async forgetResource (trx: Trx, target: Instance, context: WriteContext): Promise<void> {
    const db = scoped(this.#props, trx)
    // Its row may hold a parent: the closure's trigger would take this lock after the row's.
    if (this.#props.hierarchy != null) await lockHierarchy(this.#props, trx)
    const grants = await db.deleteFrom('default_deny_grant')
      .where('resource_type', '=', target.resource).where('resource_id', '=', target.id)
      .returning(['principal_kind', 'principal_id', 'privilege', 'starts_at', 'expires_at'])
      .execute()
    const owner = await db.deleteFrom('default_deny_resource')
      .where('resource_type', '=', target.resource).where('resource_id', '=', target.id)
      .returning(['owner_id', 'parent_type', 'parent_id'])
      .executeTakeFirst()
    if (grants.length === 0 && owner === undefined) return
    const parent = owner?.parent_type == null ? [] : [`parent:${owner.parent_type}/${owner.parent_id as string}`]
    const items = grants
      .map((g) => ({ privilege: `${g.principal_kind}:${g.principal_id}:${g.privilege}`, startsAt: instant(g.starts_at), expiresAt: instant(g.expires_at) }))
      .sort((a, b) => a.privilege < b.privilege ? -1 : a.privilege > b.privilege ? 1 : 0)
    await this.#props.audit.append(trx, {
      action: 'forget',
      grantee: null,
      target,
      before: [...items, ...(owner?.owner_id != null ? [`owner:${owner.owner_id}`] : []), ...parent],
      after: []
    }, context)
  }
}
