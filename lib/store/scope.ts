import type { Kysely, Transaction } from 'kysely'
import type { Database } from './database.js'
import type { CheckFunctions } from './check-functions.js'
import type { DefaultDenyDatabase } from './schema.js'

export type Db = Kysely<DefaultDenyDatabase>

/**
 * A transaction opened by `GrantWriter.write` (or a host transaction it runs
 * inside): the writer's methods take this type so that nothing calls them
 * outside the locks `write` takes.
 */
export type Trx = Transaction<any>

/** What every store component is built from; frozen once, shared. */
export interface StoreProps {
  readonly db: Kysely<any>
  /** `db` with what it can do, stated once at start-up. */
  readonly database: Database
  /** The PostgreSQL schema holding the plugin's tables. */
  readonly schema: string
  /** How many levels of stored group nesting count (the `groupDepth` option). */
  readonly groupDepth: number
  /** The route check installed as functions (a host's pool that prepares nothing), or null: the statements themselves. */
  readonly checkFunctions?: CheckFunctions | null
  /** With the `hierarchy` option: the types that may be parents (owners of ancestors are looked up among them). */
  readonly hierarchy?: { readonly parentTypes: readonly string[] } | null
}

/** `db` (or the store's own handle) scoped to the plugin's schema. */
export function scoped (props: StoreProps, db?: Kysely<any>): Db {
  return (db ?? props.db).withSchema(props.schema) as Db
}

/**
 * The key of an advisory lock of the plugin's in `schema`: advisory locks are
 * per database, so every key names its schema, and two instances on two
 * schemas of one database (two apps, or a schema per tenant) never wait on
 * each other. The schema is quoted as an identifier, and the parts are JSON
 * strings, so no two different keys are spelled alike.
 */
export function lockKey (schema: string, kind: string, ...parts: string[]): string {
  const tail = parts.length === 0 ? '' : `/${JSON.stringify(parts)}`
  return `fastify-default-deny/${kind}/"${schema.replace(/"/g, '""')}"${tail}`
}
