// Where the grants are stored: the host's Kysely instance or a connection
// string for a pool of the plugin's own, the schema, and whether to migrate.
import type { Kysely } from 'kysely'
import { DEFAULT_SCHEMA } from '../store/migrate.js'
import { booleanOption, invalid, postgresUrl } from './values.js'

export { DEFAULT_SCHEMA }

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export interface DatabaseOptions {
  readonly db: Kysely<any> | null
  readonly connectionString: string | null
  readonly schema: string
  readonly migrate: boolean
}

function isKysely (value: unknown): value is Kysely<any> {
  return typeof value === 'object' && value !== null &&
    typeof (value as Kysely<any>).selectFrom === 'function' &&
    typeof (value as Kysely<any>).withSchema === 'function'
}

export function databaseOptions (opts: Record<string, unknown>): DatabaseOptions {
  const hasDb = opts.db !== undefined
  const hasUrl = opts.connectionString !== undefined
  if (hasDb === hasUrl) invalid('db', "or 'connectionString' is required (exactly one): there is no in-memory fallback")
  if (hasDb && !isKysely(opts.db)) invalid('db', 'must be a Kysely instance')
  if (hasUrl) postgresUrl('connectionString', opts.connectionString)

  const schema = opts.schema === undefined ? DEFAULT_SCHEMA : opts.schema
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) invalid('schema', 'must be a plain SQL identifier')
  return Object.freeze({
    db: hasDb ? opts.db as Kysely<any> : null,
    connectionString: hasUrl ? opts.connectionString as string : null,
    schema,
    migrate: booleanOption(opts, 'migrate', true)
  })
}
