// The plugin's storage, built once per plugin instance from one Kysely handle.
import type { Kysely } from 'kysely'
import { AuditLog } from './audit.js'
import { SqlGrantReader, type GrantReader } from './reader.js'
import { GrantWriter } from './writer.js'

export interface Store {
  readonly reader: GrantReader
  readonly writer: GrantWriter
  readonly audit: AuditLog
}

export function createStore (db: Kysely<any>, schema: string): Store {
  const props = { db, schema }
  const audit = new AuditLog(props)
  return Object.freeze({ reader: new SqlGrantReader(props), writer: new GrantWriter({ ...props, audit }), audit })
}
