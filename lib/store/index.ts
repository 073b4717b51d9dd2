// The plugin's storage, built once per plugin instance from one database.
import type { Database } from './database.js'
import type { CheckFunctions } from './check-functions.js'
import { AuditLog } from './audit.js'
import { MembershipStore } from './members.js'
import { SqlGrantReader, type GrantReader } from './reader.js'
import { TreeStore } from './tree.js'
import { GrantWriter } from './writer.js'

export interface Store {
  readonly reader: GrantReader
  readonly writer: GrantWriter
  readonly audit: AuditLog
  readonly members: MembershipStore
  readonly tree: TreeStore
}

/** What the store needs of the `groupDepth` and `groupResource` options. */
export interface StoreGroups {
  readonly groupDepth: number
  readonly groupResource: string
}

/** What the store needs of the `hierarchy` option (null: off). */
export interface StoreHierarchy {
  readonly parentTypes: readonly string[]
}

export function createStore (database: Database, schema: string, groups: StoreGroups, hierarchy: StoreHierarchy | null = null, checkFunctions: CheckFunctions | null = null): Store {
  const props = Object.freeze({ db: database.db, database, schema, groupDepth: groups.groupDepth, hierarchy, checkFunctions })
  const audit = new AuditLog(props)
  return Object.freeze({
    reader: new SqlGrantReader(props),
    writer: new GrantWriter({ ...props, audit }),
    audit,
    members: new MembershipStore({ ...props, audit, groupResource: groups.groupResource }),
    tree: new TreeStore({ ...props, audit })
  })
}
