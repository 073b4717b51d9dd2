// What a database the plugin was given can do, stated once. A host hands the
// plugin a Kysely instance; when one of the plugin's own factories built it
// (`postgresKysely`, `createPGliteKysely`), the factory declared here what
// else it offers, and the plugin reads that once at start-up into a
// `Database` it passes on explicitly. Anything else is a plain Kysely: every
// statement goes through Kysely's executor and there is no in-process LISTEN.
import type { Kysely } from 'kysely'
import type { Budget } from './deadline.js'

/**
 * Runs one statement on a connection of the pool behind a Kysely instance the
 * plugin built, skipping Kysely's executor: the route check is the one
 * statement on every request's path. With a budget it sends nothing once the
 * budget is spent while waiting for the connection. Statements starting with
 * `PREPARED_MARKER` (lib/store/check.ts) are sent as named prepared statements.
 */
export type DirectRunner = (text: string, values: unknown[], budget?: Budget) => Promise<ReadonlyArray<Record<string, unknown>>>

/** Subscribes to a channel on an embedded database, where LISTEN works within the one process; resolves to the unsubscribe. */
export type InProcessListen = (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>

/** What a factory of the plugin's says its Kysely instance can do beyond Kysely. */
export interface Capabilities {
  /** The pool behind it, reachable without Kysely's executor (prepared statements on PostgreSQL). */
  readonly direct: DirectRunner | null
  /** LISTEN within this process: only the embedded database, which no other process can reach. */
  readonly listen: InProcessListen | null
  /** The embedded database (PGlite): one process, no standbys. */
  readonly embedded: boolean
}

/** A database and what it can do, built once per Kysely instance. */
export interface Database extends Capabilities {
  readonly db: Kysely<any>
}

const PLAIN: Capabilities = Object.freeze({ direct: null, listen: null, embedded: false })

// The one registry: a Kysely instance is all a host passes, so this is where
// what its factory knew is kept until the plugin asks.
const declared = new WeakMap<Kysely<any>, Capabilities>()

/** Called by the plugin's factories on the instance they return. */
export function declareCapabilities (db: Kysely<any>, capabilities: Partial<Capabilities>): void {
  declared.set(db, Object.freeze({ ...PLAIN, ...capabilities }))
}

/** `db` with what it can do: a plain Kysely instance (a host's own, a transaction) can do nothing more. */
export function databaseOf (db: Kysely<any>): Database {
  return Object.freeze({ db, ...(declared.get(db) ?? PLAIN) })
}

/**
 * Opens `visible`'s condition: a host's statement that holds it is sent as a
 * named prepared statement by the pools the plugin builds too (see
 * `preparedPage`), so that its merge of the grants is planned once per
 * connection instead of on every page.
 */
export const PAGE_MARKER = '/* fastify-default-deny: page */'

// How many distinct page statements a process names (each is kept on every
// connection that ran it): past it, a page is planned on every call again.
const PAGE_STATEMENTS = 256
const pageTexts = new Set<string>()

/**
 * Whether a host's statement is sent as a named prepared statement: it holds
 * `visible`'s condition, selects no `*` (a cached plan must keep its result's
 * columns: a column added to the table would fail the next call on every
 * connection), and is one of the first `PAGE_STATEMENTS` such texts.
 */
export function preparedPage (text: string): boolean {
  if (!text.includes(PAGE_MARKER)) return false
  if (pageTexts.has(text)) return true
  if (pageTexts.size >= PAGE_STATEMENTS || /(?:\.|\bselect|,)\s*\*/i.test(text.replace(/\/\*.*?\*\//gs, ''))) return false
  pageTexts.add(text)
  return true
}
