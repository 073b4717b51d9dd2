import type { Migration } from 'kysely'
import * as createGrants from './20261125070000_create_grants.js'
import * as createAudit from './20261125080000_create_audit.js'
import * as grantStartsAt from './20261129120000_grant_starts_at.js'
import * as resourceOwnerIdx from './20261202120000_resource_owner_idx.js'
import * as groupMembership from './20261203090000_group_membership.js'
import * as changeNotify from './20261204090000_change_notify.js'
import * as membershipClosureDelta from './20261206120000_membership_closure_delta.js'
import * as resourceHierarchy from './20261207090000_resource_hierarchy.js'
import * as steppedMoves from './20261208090000_stepped_moves.js'
import * as coveringCheckIndexes from './20261209090000_covering_check_indexes.js'
import * as auditChainLinks from './20261210090000_audit_chain_links.js'

// A static map rather than FileMigrationProvider: it survives bundling and
// compilation, and the set of migrations is fixed per release.
export const migrations: Record<string, Migration> = {
  '20261125070000_create_grants': createGrants,
  '20261125080000_create_audit': createAudit,
  '20261129120000_grant_starts_at': grantStartsAt,
  '20261202120000_resource_owner_idx': resourceOwnerIdx,
  '20261203090000_group_membership': groupMembership,
  '20261204090000_change_notify': changeNotify,
  '20261206120000_membership_closure_delta': membershipClosureDelta,
  '20261207090000_resource_hierarchy': resourceHierarchy,
  '20261208090000_stepped_moves': steppedMoves,
  '20261209090000_covering_check_indexes': coveringCheckIndexes,
  '20261210090000_audit_chain_links': auditChainLinks
}
