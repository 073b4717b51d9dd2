// Where a read goes when hot standbys are configured. Each standby's replay
// position is polled, and so is the primary's insert position, so that a
// standby is known to hold everything the primary had committed as of some
// moment: a read presenting no revision goes to a standby only while that
// moment is at most `maxLag` old, and a read presenting a revision only to a
// standby that has replayed it (else, after at most `wait`, the primary).
import { setTimeout as sleep } from 'node:timers/promises'
import type { Expression, Kysely, SqlBool } from 'kysely'
import type { CheckQuery, CheckReader, IdPage, Known, ListQuery, ManyQuery, ReadNote, ReadOptions, TypeQuery, Until } from './check.js'
import { databaseOf, type Database } from './database.js'
import type { Budget } from './deadline.js'
import { insertPosition, replayPosition } from './positions.js'
import { postgresKysely } from './postgres.js'

/** The `replicas` option, as lib/options/replicas.ts resolves it. */
export interface ReplicaSettings {
  readonly connectionStrings: readonly string[]
  /** A standby further behind than this many milliseconds is not read from (without a revision). */
  readonly maxLag: number
  /** How long a read presenting a revision waits for a standby to replay it before asking the primary. */
  readonly wait: number
  /** How often each standby's replay position is read, in milliseconds. */
  readonly pollInterval: number
}

export interface ReplicaLog {
  warn: (details: object, message: string) => void
}

interface Standby {
  /** Its pool, with its own runner. */
  readonly database: Database
  readonly name: string
  /** The furthest position it is known to have replayed. */
  replayed: bigint
  /** Everything the primary had committed by this moment (performance.now()) is on the standby. */
  freshAt: number
  usable: boolean
  /** What was last logged about it, so that a lasting fault is logged once. */
  reported: string | null
  /** Reads sent to it. */
  reads: number
}

/** How often a read waiting for a standby to replay its revision asks again. */
const WAIT_STEP = 2

export class ReadRoute {
  readonly primary: Kysely<any>
  readonly #settings: ReplicaSettings
  readonly #standbys: Standby[]
  readonly #log: ReplicaLog
  /** The primary's insert positions, oldest first, with when they were read. */
  #samples: Array<{ at: number, position: bigint }> = []
  #timer: NodeJS.Timeout | null = null
  #next = 0

  constructor (primary: Kysely<any>, standbys: ReadonlyArray<{ database: Database, name: string }>, settings: ReplicaSettings, log: ReplicaLog) {
    this.primary = primary
    this.#settings = settings
    this.#log = log
    this.#standbys = standbys.map(({ database, name }) => ({ database, name, replayed: 0n, freshAt: -Infinity, usable: false, reported: null, reads: 0 }))
  }

  /** Each standby's database, with its own runner. */
  get databases (): Database[] {
    return this.#standbys.map((s) => s.database)
  }

  /** Polls once (reads go to the primary until a standby is known fresh), then every `pollInterval`. */
  async start (): Promise<void> {
    await this.poll()
    this.#timer = setInterval(() => { void this.poll() }, this.#settings.pollInterval)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** One round of positions: the primary's first, so that each standby is compared with a moment before its own reading. */
  async poll (): Promise<void> {
    const at = performance.now()
    try {
      this.#samples.push({ at, position: await insertPosition(this.primary) })
    } catch {
      // Without the primary's position no standby can be proven fresh; their freshness only ages.
    }
    const horizon = at - this.#settings.maxLag
    // Keep the newest sample older than the horizon: it still proves freshness up to it.
    while (this.#samples.length > 1 && (this.#samples[1] as { at: number }).at <= horizon) this.#samples.shift()
    await Promise.all(this.#standbys.map(async (standby) => { await this.#pollStandby(standby) }))
  }

  async #pollStandby (standby: Standby): Promise<void> {
    let replayed: bigint | null
    try {
      replayed = await replayPosition(standby.database.db)
    } catch (err) {
      this.#unusable(standby, 'unreachable', err)
      return
    }
    if (replayed === null) {
      this.#unusable(standby, 'not a standby', null)
      return
    }
    if (replayed > standby.replayed) standby.replayed = replayed
    for (const sample of this.#samples) {
      if (sample.position <= standby.replayed && sample.at > standby.freshAt) standby.freshAt = sample.at
    }
    standby.usable = true
    standby.reported = null
  }

  #unusable (standby: Standby, why: string, err: unknown): void {
    standby.usable = false
    if (standby.reported === why) return
    standby.reported = why
    this.#log.warn({ err, replica: standby.name }, `fastify-default-deny: read replica ${why}; reading from the primary`)
  }

  #fresh (standby: Standby, now: number): boolean {
    return standby.usable && now - standby.freshAt <= this.#settings.maxLag
  }

  /** Where a read presenting no revision goes: a standby at most `maxLag` behind (in turn), else the primary. */
  any (): Kysely<any> {
    const now = performance.now()
    const count = this.#standbys.length
    for (let i = 0; i < count; i++) {
      const standby = this.#standbys[(this.#next + i) % count] as Standby
      if (this.#fresh(standby, now)) {
        this.#next = (this.#next + i + 1) % count
        standby.reads++
        return standby.database.db
      }
    }
    return this.primary
  }

  /**
   * Where a read at least as fresh as `revision` goes: a standby known to
   * have replayed it; else the most advanced standby once it has (asked
   * every few milliseconds for at most `wait`, and never past the budget);
   * else the primary.
   */
  async atLeast (revision: bigint, budget?: Budget): Promise<Kysely<any>> {
    const now = performance.now()
    let best: Standby | null = null
    for (const standby of this.#standbys) {
      if (!this.#fresh(standby, now)) continue
      if (standby.replayed >= revision) {
        standby.reads++
        return standby.database.db
      }
      if (best === null || standby.replayed > best.replayed) best = standby
    }
    if (best === null || this.#settings.wait === 0) return this.primary
    const limit = Math.min(this.#settings.wait, budget === undefined ? Infinity : budget.remaining() / 2)
    const until = now + limit
    while (performance.now() < until) {
      let replayed: bigint | null
      try {
        replayed = await replayPosition(best.database.db)
      } catch {
        break
      }
      if (replayed !== null && replayed > best.replayed) best.replayed = replayed
      if (best.replayed >= revision) {
        best.reads++
        return best.database.db
      }
      await sleep(WAIT_STEP)
    }
    return this.primary
  }

  /** The name of the standby whose pool is `db`. */
  nameOf (db: Kysely<any>): string | null {
    return this.#standbys.find((s) => s.database.db === db)?.name ?? null
  }

  /** A read on `db` failed: off until its next poll answers. */
  failed (db: Kysely<any>, err: unknown): void {
    const standby = this.#standbys.find((s) => s.database.db === db)
    if (standby !== undefined) this.#unusable(standby, 'failed a read', err)
  }

  /** What an operator sees of each standby. */
  status (): Array<{ name: string, usable: boolean, lag: number | null, replayed: bigint, reads: number }> {
    const now = performance.now()
    return this.#standbys.map((s) => ({
      name: s.name,
      usable: this.#fresh(s, now),
      lag: s.freshAt === -Infinity ? null : Math.round(now - s.freshAt),
      replayed: s.replayed,
      reads: s.reads
    }))
  }
}

export interface ReadRouteProps {
  readonly settings: ReplicaSettings
  readonly primary: Kysely<any>
  /** Each standby's statements are bounded as the primary's checks are. */
  readonly checkTimeout: number
  readonly log: ReplicaLog
  readonly onConnectionError: (err: Error) => void
}

/** The standbys' pools (planned generically, like the plugin's own) and the route over them; `close` ends both. */
export function createReadRoute ({ settings, primary, checkTimeout, log, onConnectionError }: ReadRouteProps): { route: ReadRoute, close: () => Promise<void> } {
  const standbys = settings.connectionStrings.map((url) => ({
    database: databaseOf(postgresKysely(url, {
      connectionTimeoutMillis: checkTimeout,
      statementTimeout: checkTimeout,
      genericPlans: true,
      onError: onConnectionError
    })),
    // Where it is, never its credentials.
    name: new URL(url).host
  }))
  const route = new ReadRoute(primary, standbys, settings, log)
  return {
    route,
    async close () {
      route.stop()
      await Promise.all(standbys.map(async ({ database }) => { await database.db.destroy() }))
    }
  }
}

/**
 * The standbys around the primary's reader: each read goes where the route
 * sends it, to the reader built on that standby's own database. A read that
 * fails on a standby is read again from the primary: it changes nothing, so
 * it may be repeated. What a standby cannot hold fresh for a cache (the
 * answer with its time bound) stays on the primary.
 */
export class StandbyReader implements CheckReader {
  readonly #route: ReadRoute
  readonly #primary: CheckReader
  readonly #standbys: ReadonlyMap<Kysely<any>, CheckReader>

  constructor (route: ReadRoute, primary: CheckReader, readerOf: (database: Database) => CheckReader) {
    this.#route = route
    this.#primary = primary
    this.#standbys = new Map(route.databases.map((database) => [database.db, readerOf(database)]))
  }

  hit (): undefined {
    return undefined
  }

  check (query: CheckQuery, { revision, budget, note }: ReadOptions): Promise<boolean> {
    return this.#onStandby(revision ?? null, budget, (reader) => reader.check(query, { budget }), note)
  }

  checkUntil (query: CheckQuery, options: ReadOptions): Promise<Until> {
    return this.#primary.checkUntil(query, options)
  }

  async checkMany (query: ManyQuery, { revision }: ReadOptions): Promise<boolean[]> {
    return await this.#onStandby(revision ?? null, undefined, async (reader) => await reader.checkMany(query, {}))
  }

  async listIds (query: ListQuery, { revision }: ReadOptions): Promise<IdPage> {
    return await this.#onStandby(revision ?? null, undefined, async (reader) => await reader.listIds(query, {}))
  }

  async holdings (query: TypeQuery & { readonly after: string }, { revision }: ReadOptions): Promise<Known> {
    return await this.#onStandby(revision ?? null, undefined, async (reader) => await reader.holdings(query, {}))
  }

  filter (query: TypeQuery, id: Expression<unknown>, known: Known | null = null): Expression<SqlBool> {
    return this.#primary.filter(query, id, known)
  }

  #onStandby<T> (revision: bigint | null, budget: Budget | undefined, read: (reader: CheckReader) => Promise<T>, note?: ReadNote): Promise<T> {
    const route = this.#route
    const chosen = revision === null ? Promise.resolve(route.any()) : route.atLeast(revision, budget)
    return chosen.then((db) => {
      const standby = this.#standbys.get(db)
      if (standby === undefined) return read(this.#primary)
      if (note !== undefined) note.standby = route.nameOf(db)
      return read(standby).catch((err: unknown) => {
        route.failed(db, err)
        if (note !== undefined) note.standby = null
        budget?.assertLive()
        return read(this.#primary)
      })
    })
  }
}
