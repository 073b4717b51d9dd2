import type { ColumnType, Generated, Selectable } from 'kysely'
import type { AuditEntry } from '../../fastify-plugin.js'

export interface GrantTable {
  // bigint identity; pg returns int8 as a string. Never sent to clients.
  id: Generated<string>
  principal_kind: 'user' | 'group' | 'anonymous'
  /** '' for the anonymous principal (enforced by a CHECK constraint). */
  principal_id: string
  resource_type: string
  /** NULL for a type-level grant. */
  resource_id: string | null
  privilege: string
  granted_by: string | null
  granted_at: ColumnType<Date, Date | string | undefined, never>
  expires_at: Date | null
  /** NULL: in effect from when it was granted. */
  starts_at: Date | null
}

export interface ResourceTable {
  resource_type: string
  resource_id: string
  owner_id: string | null
  created_at: ColumnType<Date, Date | string | undefined, never>
  /** The parent resource (both null: none); the closure below follows it, kept by triggers. */
  parent_type: string | null
  parent_id: string | null
}

/** One resource's ancestor, `depth` levels up, through `edges` (`child>parent` type pairs, nearest first). */
export interface ResourceAncestorTable {
  descendant_type: string
  descendant_id: string
  ancestor_type: string
  ancestor_id: string
  depth: number
  edges: string[]
}

/** A move whose steps have not all run yet (migration 20261208090000). */
export interface ResourceMoveTable {
  resource_type: string
  resource_id: string
}

export interface MembershipTable {
  group_id: string
  member_kind: 'user' | 'group'
  member_id: string
  added_by: string | null
  added_at: ColumnType<Date, Date | string | undefined, never>
}

/** One item of an audit entry's `before` or `after`, as stored. */
export type AuditItem = string | { privilege: string, startsAt: string | null, expiresAt: string | null }

export interface AuditTable {
  seq: Generated<string>
  at: Date
  actor: string | null
  action: AuditEntry['action']
  principal_kind: 'user' | 'group' | 'anonymous' | null
  principal_id: string | null
  resource_type: string
  resource_id: string | null
  /**
   * jsonb: sorted privilege names (or `[owner]` for owner changes); a grant
   * recorded with its schedule is `{ privilege, startsAt, expiresAt }`.
   */
  before: ColumnType<AuditItem[], string, string>
  after: ColumnType<AuditItem[], string, string>
  request_id: string | null
  reason: string | null
  prev_hash: string
  hash: string
}

export interface DefaultDenyDatabase {
  default_deny_grant: GrantTable
  default_deny_resource: ResourceTable
  default_deny_resource_ancestor: ResourceAncestorTable
  default_deny_resource_move: ResourceMoveTable
  default_deny_audit: AuditTable
  default_deny_membership: MembershipTable
}

export type GrantRow = Selectable<GrantTable>
