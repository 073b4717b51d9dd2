// grantMany in a few statements: what one `setPrivileges` per grant would
// write, planned in memory in input order, then written a set at a time.
import { sql, type Insertable } from 'kysely'
import type { GranteeRef, ResourceRef } from '../../fastify-plugin.js'
import { planGrants, type ScheduleChange } from '../decision/grant-change.js'
import { chunked, type AuditChange, type AuditLog, type ScheduledItem, type WriteContext } from './audit.js'
import { granteeColumns, toGrantee } from './predicates.js'
import { scoped, type StoreProps, type Trx } from './scope.js'
import type { GrantTable } from './schema.js'

/** One grant of `grantMany`, with who made it and why. */
export interface ManyItem extends ScheduleChange {
  target: ResourceRef
  grantee: GranteeRef
  privilege: string
  context: WriteContext
}

interface Held { grants: ScheduledItem[], ids: Map<string, string> }

// PostgreSQL binds at most 65,535 parameters a statement; a grant row takes 8.
const GRANT_ROWS_PER_INSERT = 5000

const instant = (value: Date | string | null) => value === null ? null : new Date(value)

const pairKey = (target: ResourceRef, grantee: GranteeRef) => {
  const { principal_kind: kind, principal_id: id } = granteeColumns(grantee)
  return JSON.stringify([target.resource, target.id, kind, id])
}

// The order of a collate "C" column (UTF-8 bytes), which JavaScript's
// comparison of UTF-16 units does not follow past the Basic Multilingual Plane.
const byStoredOrder = (a: { privilege: string }, b: { privilege: string }) =>
  Buffer.compare(Buffer.from(a.privilege), Buffer.from(b.privilege))

/**
 * Grants each item's privilege, in order, as one `setPrivileges` call per
 * item would (rows, schedules and audit entries alike; an item sees what the
 * ones before it did), in a few statements: the grants held by every grantee
 * and target named are read in one, new rows are inserted and rescheduled
 * ones updated in one each (or a few, for many rows), and the audit entries
 * appended together. Returns, for each item, whether its grant was created.
 */
export async function grantMany (props: StoreProps & { readonly audit: AuditLog }, trx: Trx, items: readonly ManyItem[]): Promise<boolean[]> {
  const held = await heldOf(props, trx, items)
  const created: boolean[] = []
  const inserts = new Map<string, Insertable<GrantTable>>()
  const updates = new Map<string, { id: string, expiresAt: Date | null, startsAt: Date | null }>()
  const entries: Array<{ change: AuditChange, context: WriteContext }> = []
  for (const { target, grantee, privilege, expiresAt, startsAt, context } of items) {
    const key = pairKey(target, grantee)
    const pair = held.get(key) ?? { grants: [], ids: new Map<string, string>() }
    held.set(key, pair)
    const before = pair.grants
    const plan = planGrants(before, { privileges: [privilege], only: [privilege], expiresAt, startsAt })
    created.push(!before.some((g) => g.privilege === privilege))
    for (const add of plan.add) {
      inserts.set(`${key}${add.privilege}`, {
        ...granteeColumns(grantee),
        resource_type: target.resource,
        resource_id: target.id,
        privilege: add.privilege,
        granted_by: context.actor,
        expires_at: add.expiresAt,
        starts_at: add.startsAt
      })
    }
    for (const next of plan.reschedule) {
      // A row this call inserts is inserted with its last schedule.
      const row = inserts.get(`${key}${next.privilege}`)
      if (row !== undefined) Object.assign(row, { expires_at: next.expiresAt, starts_at: next.startsAt })
      else updates.set(`${key}${next.privilege}`, { id: pair.ids.get(next.privilege) as string, expiresAt: next.expiresAt, startsAt: next.startsAt })
    }
    if (plan.changed.length > 0) {
      entries.push({ change: { action: plan.add.length > 0 ? 'grant' : 'schedule', grantee, target, before, after: plan.after }, context })
    }
    // As the next item's read would return them: in the column's byte order.
    pair.grants = [...plan.after].sort(byStoredOrder)
  }
  const db = scoped(props, trx)
  for (const chunk of chunked([...inserts.values()], GRANT_ROWS_PER_INSERT)) {
    await db.insertInto('default_deny_grant').values(chunk).execute()
  }
  if (updates.size > 0) {
    const rows = [...updates.values()]
    const at = (value: Date | null) => value?.toISOString() ?? null
    await sql`update ${sql.id(props.schema, 'default_deny_grant')} as g
      set expires_at = v.expires_at, starts_at = v.starts_at
      from unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => at(r.expiresAt))}::timestamptz[], ${rows.map((r) => at(r.startsAt))}::timestamptz[])
        as v(id, expires_at, starts_at)
      where g.id = v.id`.execute(trx)
  }
  await props.audit.appendMany(trx, entries)
  return created
}

/**
 * The grants each (target, grantee) pair of `items` holds explicitly, by
 * pair, in one statement: the pairs come as arrays (one parameter a column,
 * however many pairs), joined on resources by equality and on type-level
 * targets by a null id, which an equality join would miss.
 */
async function heldOf (props: StoreProps, trx: Trx, items: readonly ManyItem[]): Promise<Map<string, Held>> {
  const pairs = new Map<string, { target: ResourceRef, grantee: GranteeRef }>()
  for (const { target, grantee } of items) pairs.set(pairKey(target, grantee), { target, grantee })
  const columns = (typeLevel: boolean) => {
    const list = [...pairs.values()].filter((p) => (p.target.id === null) === typeLevel)
    return {
      resource: sql`unnest(${list.map((p) => p.target.resource)}::text[])`,
      id: sql`unnest(${list.map((p) => p.target.id as string)}::text[])`,
      kind: sql`unnest(${list.map((p) => granteeColumns(p.grantee).principal_kind)}::text[])`,
      who: sql`unnest(${list.map((p) => granteeColumns(p.grantee).principal_id)}::text[])`
    }
  }
  const r = columns(false)
  const t = columns(true)
  type Pair = { resource_type: string, resource_id: string, principal_kind: string, principal_id: string }
  const db = scoped(props, trx)
  const select = ['g.id', 'g.principal_kind', 'g.principal_id', 'g.resource_type', 'g.resource_id', 'g.privilege', 'g.starts_at', 'g.expires_at'] as const
  const onResources = db.selectFrom('default_deny_grant as g')
    .innerJoin(sql<Pair>`(select ${r.resource} as resource_type, ${r.id} as resource_id, ${r.kind} as principal_kind, ${r.who} as principal_id)`.as('p'),
      (join) => join.onRef('g.resource_type', '=', 'p.resource_type').onRef('g.resource_id', '=', 'p.resource_id')
        .onRef('g.principal_kind', '=', 'p.principal_kind').onRef('g.principal_id', '=', 'p.principal_id'))
    .select(select)
  const onTypes = db.selectFrom('default_deny_grant as g')
    .innerJoin(sql<Omit<Pair, 'resource_id'>>`(select ${t.resource} as resource_type, ${t.kind} as principal_kind, ${t.who} as principal_id)`.as('p'),
      (join) => join.onRef('g.resource_type', '=', 'p.resource_type').on('g.resource_id', 'is', null)
        .onRef('g.principal_kind', '=', 'p.principal_kind').onRef('g.principal_id', '=', 'p.principal_id'))
    .select(select)
  const held = new Map<string, Held>()
  for (const row of await onResources.unionAll(onTypes).execute()) {
    const key = pairKey({ resource: row.resource_type, id: row.resource_id }, toGrantee(row))
    const pair = held.get(key) ?? { grants: [], ids: new Map<string, string>() }
    pair.grants.push({ privilege: row.privilege, startsAt: instant(row.starts_at), expiresAt: instant(row.expires_at) })
    pair.ids.set(row.privilege, String(row.id))
    held.set(key, pair)
  }
  for (const pair of held.values()) pair.grants.sort(byStoredOrder)
  return held
}
