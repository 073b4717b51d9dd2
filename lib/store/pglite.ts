// Embedded PostgreSQL (PGlite) behind Kysely's own PostgresDialect, so the
// embedded and the real database share the query compiler and driver code.
// PGlite is a single connection: the pool below lends it to one Kysely
// connection at a time, which keeps transactions isolated from each other.
import { mkdir } from 'node:fs/promises'
import { parse as pgliteResults, PGlite, type PGliteOptions, type Results } from '@electric-sql/pglite'
// The default import, which every loader links: on the first tap run after a
// fresh install tap still loads its ts-node hook, and through it the named
// import `{ serialize }` failed to link (every PGlite test file died at load).
import pgProtocol from 'pg-protocol'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import { declareCapabilities, preparedPage, type DirectRunner, type InProcessListen } from './database.js'
import { lockDataDir } from './data-dir-lock.js'
import { postgresKysely } from './postgres.js'

const { serialize } = pgProtocol

/** A parameter in PostgreSQL's text format: strings, booleans, null, arrays of strings. */
function toText (value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (Array.isArray(value)) return `{${value.map((item) => `"${String(item).replace(/[\\"]/g, '\\$&')}"`).join(',')}}`
  return String(value)
}

const BOOL = 16
const INT4 = 23
const TEXT_ARRAY = 1009

/** A text[] in PostgreSQL's text format. */
function parseTextArray (text: string): string[] {
  const ids: string[] = []
  const element = /(?:^\{|,)(?:"((?:[^"\\]|\\.)*)"|([^,}"]*))/g
  for (const match of text.matchAll(element)) {
    if (match[1] !== undefined) ids.push(match[1].replace(/\\(.)/g, '$1'))
    else if (match[2] !== undefined && match[2] !== '') ids.push(match[2])
  }
  return ids
}

/** One column's value from the text format, parsed as pg would for the types the plugin reads. */
function parse (field: string, dataTypeID: number): unknown {
  if (dataTypeID === BOOL) return field === 't'
  if (dataTypeID === INT4) return Number(field)
  if (dataTypeID === TEXT_ARRAY) return parseTextArray(field)
  return field
}

// The two backend messages a result is made of, as PGlite parses them.
type Message =
  | { name: 'rowDescription', fields: Array<{ name: string, dataTypeID: number }> }
  | { name: 'dataRow', fields: Array<string | null> }
  | { name: string }

interface Column { name: string, dataTypeID: number }

/** The columns a described statement returns. */
function columnsOf (messages: readonly Message[]): Column[] {
  const description = messages.find((message) => message.name === 'rowDescription')
  return description !== undefined && 'fields' in description ? description.fields as Column[] : []
}

/** The rows of an execution, parsed as pg would; other columns stay text. */
function rowsOf (columns: readonly Column[], messages: readonly Message[]): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = []
  for (const message of messages) {
    if (message.name === 'dataRow' && 'fields' in message) {
      const row: Record<string, unknown> = {}
      const fields = message.fields as Array<string | null>
      for (let i = 0; i < fields.length; i++) {
        const field = fields[i] as string | null
        const column = columns[i] as Column
        row[column.name] = field === null ? null : parse(field, column.dataTypeID)
      }
      rows.push(row)
    }
  }
  return rows
}

// PGlite's planner judges a custom plan cheaper than the generic one for the
// check's statements, and planning in WebAssembly costs more than running:
// re-planned on every call, a check took 490–960 µs against 86–108 µs with
// the generic plan. The plan is chosen at Bind, so the statement is bound
// under force_generic_plan and the session's setting restored right after,
// in the same round trip: the host's own queries keep their plans.
const GENERIC = serialize.query('set plan_cache_mode = force_generic_plan')
const DEFAULT = serialize.query('reset plan_cache_mode')

export class PGlitePool implements PostgresPool {
  readonly #pglite: PGlite
  /** Statement text → its name on this (one) connection and the columns it returns. */
  readonly #prepared = new Map<string, { name: string, columns: Column[] }>()
  /** A host's page statement (see `preparedPage`) → its name and its parameters' types. */
  readonly #pages = new Map<string, { name: string, types: number[] }>()
  #tail: Promise<void> = Promise.resolve()
  #ended = false
  readonly #onEnd: (() => Promise<void>) | undefined

  /** `onEnd` runs once the database is closed (the data directory's lock is released there). */
  constructor (pglite: PGlite, onEnd?: () => Promise<void>) {
    this.#pglite = pglite
    this.#onEnd = onEnd
  }

  /** Waits for the one connection; returns how to give it back. */
  async #acquire (): Promise<() => void> {
    if (this.#ended) throw new Error('PGlite pool has been ended')
    let release!: () => void
    const previous = this.#tail
    this.#tail = new Promise<void>((resolve) => { release = resolve })
    await previous
    return release
  }

  /**
   * The check's way around Kysely, still taking its turn on the connection:
   * a named prepared statement, parsed once, then bound and executed through
   * PGlite's wire protocol (`query` parses and plans every time).
   */
  readonly run: DirectRunner = async (text, values, budget) => {
    const release = await this.#acquire()
    try {
      budget?.assertLive()
      let statement = this.#prepared.get(text)
      if (statement === undefined) {
        const name = `fdd_${this.#prepared.size}`
        const described = await this.#pglite.execProtocol(Buffer.concat([
          serialize.parse({ name, text, types: [] }), serialize.describe({ type: 'S', name }), serialize.sync()
        ]))
        statement = { name, columns: columnsOf(described.messages as readonly Message[]) }
        this.#prepared.set(text, statement)
      }
      const bind = serialize.bind({ statement: statement.name, values: values.map(toText) })
      const { messages } = await this.#pglite.execProtocol(Buffer.concat([
        GENERIC, bind, serialize.execute({}), serialize.sync(), DEFAULT
      ]))
      return rowsOf(statement.columns, messages as readonly Message[])
    } finally {
      release()
    }
  }

  /**
   * A host's statement holding `visible`'s condition, on the connection its
   * caller holds: named, parsed once, bound under the generic plan like the
   * check's (planning the merge in WebAssembly cost more than running it),
   * its parameters and rows converted as `query` converts them.
   */
  async #page (text: string, parameters: readonly unknown[]): Promise<Results> {
    const pglite = this.#pglite
    let statement = this.#pages.get(text)
    if (statement === undefined) {
      const name = `fdd_page_${this.#pages.size}`
      const described = await pglite.execProtocol(Buffer.concat([serialize.parse({ name, text, types: [] }), serialize.describe({ type: 'S', name }), serialize.sync()]))
      statement = { name, types: pgliteResults.parseDescribeStatementResults(described.messages) }
      this.#pages.set(text, statement)
    }
    const types = statement.types
    const values = parameters.map((value, i) => {
      if (value === null || value === undefined) return null
      const serializer = pglite.serializers[types[i] as number]
      return serializer === undefined ? String(value) : serializer(value)
    })
    const { messages } = await pglite.execProtocol(Buffer.concat([
      GENERIC, serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync(), DEFAULT
    ]))
    // One result per command: the setting's, the statement's, the reset's.
    return pgliteResults.parseResults(messages, pglite.parsers)[1] as Results
  }

  async connect (): Promise<PostgresPoolClient> {
    const release = await this.#acquire()
    const pglite = this.#pglite
    const page = this.#page.bind(this)
    let released = false
    return {
      async query (sql: string, parameters: ReadonlyArray<unknown>) {
        const result = preparedPage(sql) ? await page(sql, parameters) : await pglite.query(sql, [...parameters])
        return {
          command: (result.command ?? 'SELECT').toUpperCase(),
          rowCount: result.rowCount ?? result.affectedRows ?? 0,
          rows: result.rows
        }
      },
      release () {
        if (released) return
        released = true
        release()
      }
    } as unknown as PostgresPoolClient
  }

  /**
   * LISTEN on the one connection, between two users of it: never inside
   * someone's transaction, whose rollback would undo it.
   */
  readonly listen: InProcessListen = async (channel, onPayload) => {
    const release = await this.#acquire()
    try {
      // Quoted both ways: PGlite sends the name as given, and its own unsubscribe would not quote it.
      const quoted = `"${channel.replace(/"/g, '""')}"`
      await this.#pglite.listen(quoted, onPayload)
      return async () => {
        if (this.#pglite.closed || this.#ended) return
        const done = await this.#acquire()
        try { await this.#pglite.unlisten(quoted, onPayload) } finally { done() }
      }
    } finally {
      release()
    }
  }

  async end (): Promise<void> {
    this.#ended = true
    await this.#tail
    try {
      if (!this.#pglite.closed) await this.#pglite.close()
    } finally {
      await this.#onEnd?.()
    }
  }
}

// Kysely ends a pool only if a query of its own ever used it; the check
// runs beside Kysely, and a database may be opened and closed unused: either
// way destroy() must close PGlite, and so release the data directory.
class PGliteKysely<DB> extends Kysely<DB> {
  readonly #pool: PGlitePool

  constructor (pool: PGlitePool) {
    super({ dialect: new PostgresDialect({ pool }) })
    this.#pool = pool
  }

  override async destroy (): Promise<void> {
    try {
      await super.destroy()
    } finally {
      await this.#pool.end()
    }
  }
}

/**
 * PGlite's own start parameters, and `wal_init_zero=off`: PostgreSQL fills
 * each new 16 MB WAL segment with zeros before using it, which inside PGlite
 * is 16 MB written through its virtual file system while the one connection
 * waits, once every few large writes (a move of a 10,000-document folder
 * crosses several). Beside such a move, the longest wait of a check was
 * 81-102 ms with the zeros and 37-39 ms without (BENCHMARKS.md, "Moves in
 * steps"). PostgreSQL does not need the zeros: it checks each WAL page's
 * header as it reads, and the setting exists for file systems where the
 * zeros buy nothing.
 */
export const EMBEDDED_START_PARAMS: readonly string[] = Object.freeze([...PGlite.defaultStartParams, '-c', 'wal_init_zero=off'])

/**
 * A Kysely instance on an embedded PGlite database: in memory when `dataDir`
 * is omitted, persisted in that directory otherwise (created if missing).
 * `db.destroy()` closes it.
 *
 * A directory is one process's at a time: this process takes it (a lock file
 * in it, released by `db.destroy()` and on exit), and while it holds it any
 * other opener fails at once with `FST_DEFAULT_DENY_DATABASE_LOCKED`, naming
 * this process. For several processes on one database, use PostgreSQL.
 * `options.loadDataDir`: a new database starts as this dump (`dumpDataDir`) left it.
 */
export async function createPGliteKysely<DB = any> (dataDir?: string, options: Pick<PGliteOptions, 'loadDataDir'> = {}): Promise<Kysely<DB>> {
  let unlock: (() => Promise<void>) | undefined
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true })
    unlock = await lockDataDir(dataDir)
  }
  let pglite: PGlite
  try {
    pglite = await PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), startParams: [...EMBEDDED_START_PARAMS], ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }) })
  } catch (err) {
    await unlock?.()
    throw err
  }
  const pool = new PGlitePool(pglite, unlock)
  const db = new PGliteKysely<DB>(pool)
  declareCapabilities(db, { direct: pool.run, listen: pool.listen, embedded: true })
  return db
}

/** Where the example and the migration command keep the embedded database. */
export const DEFAULT_PGLITE_DIR = '.data/pglite'

/**
 * PostgreSQL at `url` when it is set and not empty, otherwise the embedded
 * database in `dataDir` (in memory when omitted): what the example, the
 * migration command and the benchmark all do with `DATABASE_URL`.
 */
export async function openDatabase<DB = any> (url: string | undefined, dataDir?: string, max?: number): Promise<Kysely<DB>> {
  // These pools serve the plugin (and a demo's simple queries): planned generically, like the pool the plugin owns.
  return url !== undefined && url !== '' ? postgresKysely<DB>(url, { max, genericPlans: true }) : await createPGliteKysely<DB>(dataDir)
}
