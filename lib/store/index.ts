// The plugin's storage, built once per plugin instance from one Kysely handle.
import type { Kysely } from 'kysely'
import { AuditLog } from './audit.js'
import { databaseOf } from './database.js'
import { MembershipStore } from './members.js'
import { SqlGrantReader, type GrantReader } from './reader.js'
import { GrantWriter } from './writer.js'

export interface Store {
  readonly reader: GrantReader
  readonly writer: GrantWriter
  readonly audit: AuditLog
  readonly members: MembershipStore
}

export function createStore (db: Kysely<any>, schema: string, groups: { groupDepth: number, groupResource: string }): Store {
  const props = { db, database: databaseOf(db), schema, groupDepth: groups.groupDepth }
  const audit = new AuditLog(props)
  return Object.freeze({
    reader: new SqlGrantReader(props),
    writer: new GrantWriter({ ...props, audit }),
    audit,
    members: new MembershipStore({ ...props, audit, groupResource: groups.groupResource })
  })
}
