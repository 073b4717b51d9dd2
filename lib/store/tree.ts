// The resource tree: where each resource is placed (its row's parent) and
// what the closure the triggers keep says is above and below it (migration
// 20261207090000). Reads for the service API and the admin page; writes
// inside GrantWriter.write's transaction, audited.
import { sql, type Kysely, type SqlBool } from 'kysely'
import type { ResourceRef } from '../../fastify-plugin.js'
import type { AuditLog, WriteContext } from './audit.js'
import { lockKey, scoped, type Db, type StoreProps, type Trx } from './scope.js'
import { DEFER_SETTING } from '../../migrations/20261208090000_stepped_moves.js'

type Instance = ResourceRef & { id: string }

/** A parent as the audit trail records it: `type/id` (a hierarchy's types hold no '/'). */
export const parentItem = (ref: Instance): string => `${ref.resource}/${ref.id}`

export const sameRef = (a: Instance | null, b: Instance | null): boolean =>
  a === null || b === null ? a === b : a.resource === b.resource && a.id === b.id

/** The recorded parent of one resource, or null. */
export async function parentOf (db: Db, child: Instance): Promise<Instance | null> {
  const row = await db.selectFrom('default_deny_resource')
    .select(['parent_type', 'parent_id'])
    .where('resource_type', '=', child.resource)
    .where('resource_id', '=', child.id)
    .executeTakeFirst()
  return row?.parent_type == null ? null : { resource: row.parent_type, id: row.parent_id as string }
}

/**
 * Holds every other change of the resource tree off until the transaction
 * ends. The closure's trigger takes the same key (the migrations spell it).
 */
export async function lockHierarchy (props: Pick<StoreProps, 'schema'>, trx: Trx): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${lockKey(props.schema, 'hierarchy')}, 0))`.execute(trx)
}

export interface TreeProps extends StoreProps {
  readonly audit: AuditLog
}

export class TreeStore {
  readonly #props: TreeProps

  constructor (props: TreeProps) {
    this.#props = Object.freeze({ ...props })
  }

  async getParent (child: Instance, db?: Kysely<any>): Promise<Instance | null> {
    return await parentOf(scoped(this.#props, db), child)
  }

  async ancestors (child: Instance, db?: Kysely<any>): Promise<Array<Instance & { depth: number }>> {
    const rows = await scoped(this.#props, db).selectFrom('default_deny_resource_ancestor')
      .select(['ancestor_type', 'ancestor_id', 'depth'])
      .where('descendant_type', '=', child.resource)
      .where('descendant_id', '=', child.id)
      .orderBy('depth')
      .execute()
    return rows.map((row) => ({ resource: row.ancestor_type, id: row.ancestor_id, depth: row.depth }))
  }

  async children (parent: Instance, after: Instance | null, limit: number, db?: Kysely<any>): Promise<Instance[]> {
    let query = scoped(this.#props, db).selectFrom('default_deny_resource')
      .select(['resource_type', 'resource_id'])
      .where('parent_type', '=', parent.resource)
      .where('parent_id', '=', parent.id)
    if (after !== null) query = query.where(sql<SqlBool>`(resource_type, resource_id) > (${after.resource}, ${after.id})`)
    const rows = await query.orderBy('resource_type').orderBy('resource_id').limit(limit).execute()
    return rows.map((row) => ({ resource: row.resource_type, id: row.resource_id }))
  }

  /**
   * Holds every other change of the resource tree off until this
   * transaction ends: the same lock the closure's trigger takes, taken
   * first, so that what a move is checked against is what it is written on.
   */
  async lock (trx: Trx): Promise<void> {
    await lockHierarchy(this.#props, trx)
  }

  /** The recorded parent, read inside the transaction. */
  async parent (trx: Trx, child: Instance): Promise<Instance | null> {
    return await parentOf(scoped(this.#props, trx), child)
  }

  /**
   * What a move of `child` under `parent` would make of the tree: whether
   * `child` is `parent` or one of its ancestors (a cycle), and the longest
   * path it would leave (the parent's own depth, one edge, and the deepest
   * path below `child`).
   */
  async placement (trx: Trx, child: Instance, parent: Instance): Promise<{ cycle: boolean, depth: number }> {
    const closure = sql.id(this.#props.schema, 'default_deny_resource_ancestor')
    const { rows } = await sql<{ cycle: boolean, above: number, below: number }>`select
      exists (select 1 from ${closure} where descendant_type = ${parent.resource} and descendant_id = ${parent.id}
        and ancestor_type = ${child.resource} and ancestor_id = ${child.id}) as cycle,
      (select coalesce(max(depth), 0) from ${closure} where descendant_type = ${parent.resource} and descendant_id = ${parent.id})::int as above,
      (select coalesce(max(depth), 0) from ${closure} where ancestor_type = ${child.resource} and ancestor_id = ${child.id})::int as below`.execute(trx)
    const row = rows[0] as { cycle: boolean, above: number, below: number }
    const same = child.resource === parent.resource && child.id === parent.id
    return { cycle: same || row.cycle, depth: row.above + 1 + row.below }
  }

  /**
   * Finishes every move whose steps were cut short (a failed step, a
   * stopped process): what the closure's trigger does before any change of
   * the tree, and the plugin at its start. Returns how many there were.
   */
  async settle (db?: Kysely<any>): Promise<number> {
    const { rows } = await sql<{ n: number }>`select ${sql.id(this.#props.schema, 'default_deny_resource_settle')}() as n`.execute(scoped(this.#props, db))
    return Number(rows[0]?.n ?? 0)
  }

  /**
   * One step of a move made with `deferred`: rewrites the paths above the
   * moved `child` of at most `limit` resources below it, in key order after
   * `after`. Returns where the next step starts, or null when none is left.
   */
  async step (trx: Trx, child: Instance, after: readonly [string, string] | null, limit: number): Promise<[string, string] | null> {
    const { rows } = await sql<{ next: [string, string] | null }>`select ${sql.id(this.#props.schema, 'default_deny_resource_move_step')}(
      ${child.resource}, ${child.id}, ${after?.[0] ?? null}::text, ${after?.[1] ?? null}::text, ${limit}::int) as next`.execute(trx)
    return rows[0]?.next ?? null
  }

  /**
   * Records `parent` (null: none) as the parent of `child`, in one audit
   * entry (action `parent`, the old and new parent as `type/id`); the
   * closure's trigger rewrites the moved subtree's paths, or, with
   * `deferred`, only the child's own, leaving those below it to `step`
   * (`moved` then says whether any are left). A row left with neither owner
   * nor parent is deleted. Returns the parent before.
   */
  async setParent (trx: Trx, child: Instance, parent: Instance | null, context: WriteContext, deferred = false): Promise<{ before: Instance | null, moved: boolean }> {
    const db = scoped(this.#props, trx)
    const before = await this.parent(trx, child)
    if (sameRef(before, parent)) return { before, moved: false }
    if (deferred) await sql`select set_config(${DEFER_SETTING}, 'on', true)`.execute(trx)
    if (parent === null) {
      await db.updateTable('default_deny_resource').set({ parent_type: null, parent_id: null })
        .where('resource_type', '=', child.resource).where('resource_id', '=', child.id)
        .execute()
      await db.deleteFrom('default_deny_resource')
        .where('resource_type', '=', child.resource).where('resource_id', '=', child.id).where('owner_id', 'is', null)
        .execute()
    } else {
      const columns = { parent_type: parent.resource, parent_id: parent.id }
      await db.insertInto('default_deny_resource')
        .values({ resource_type: child.resource, resource_id: child.id, owner_id: null, ...columns })
        .onConflict((oc) => oc.columns(['resource_type', 'resource_id']).doUpdateSet(columns))
        .execute()
    }
    if (deferred) await sql`select set_config(${DEFER_SETTING}, '', true)`.execute(trx)
    await this.#props.audit.append(trx, {
      action: 'parent',
      grantee: null,
      target: child,
      before: before === null ? [] : [parentItem(before)],
      after: parent === null ? [] : [parentItem(parent)]
    }, context)
    const moved = deferred && await db.selectFrom('default_deny_resource_move').select('resource_id')
      .where('resource_type', '=', child.resource).where('resource_id', '=', child.id).executeTakeFirst() !== undefined
    return { before, moved }
  }

  /** A keyset page of every recorded parent, by the child's type then id, after `after` (exclusive): what export writes. */
  async scanParents (after: Instance | null, limit: number, db?: Kysely<any>): Promise<Array<Instance & { parent: Instance }>> {
    let query = scoped(this.#props, db).selectFrom('default_deny_resource')
      .select(['resource_type', 'resource_id', 'parent_type', 'parent_id'])
      .where('parent_type', 'is not', null)
    if (after !== null) query = query.where(sql<SqlBool>`(resource_type, resource_id) > (${after.resource}, ${after.id})`)
    const rows = await query.orderBy('resource_type').orderBy('resource_id').limit(limit).execute()
    return rows.map((row) => ({ resource: row.resource_type, id: row.resource_id, parent: { resource: row.parent_type as string, id: row.parent_id as string } }))
  }
}
