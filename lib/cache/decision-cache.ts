// The route decisions of one instance, kept in memory so that a repeated
// request costs a map lookup instead of a query. No I/O here: the feed of
// changes (listener.ts) and the check that fills it are elsewhere.
//
// Correctness rests on scopes and their generations. Every entry records the
// scopes its answer depends on (the resource, its type, the user, each token
// group) and the generation of each at the moment its query was *sent*. A
// change bumps the generations of the scopes it touches, so an entry whose
// query was in flight during the change is refused when stored, and one read
// before it never matches again. Dropping everything bumps the epoch.
import type { CacheStats } from '../../fastify-plugin.js'

export interface CacheLimits {
  /** Most entries kept. */
  maxEntries: number
  /** Approximate bytes the entries may take. */
  maxBytes: number
  /** Longest an entry is served, in milliseconds. */
  maxAge: number
}

/** The counters of `cacheStats()`, documented there. */
export type CacheCounters = Omit<CacheStats, 'on' | 'entries' | 'bytes'>

/** What one check depends on: its key and its scopes. */
export interface Lookup {
  key: string
  scopes: readonly string[]
}

/** Taken before the query is sent; the answer is stored against it. */
export interface Ticket {
  readonly epoch: number
  readonly generations: readonly number[]
}

interface Entry {
  key: string
  allowed: boolean
  /** On the cache's clock. */
  until: number
  epoch: number
  scopes: readonly string[]
  generations: readonly number[]
  bytes: number
  /** Its neighbours in the order of use, least recent first. */
  older: Entry | null
  newer: Entry | null
}

// What a Map entry, its object, two small arrays and the strings' headers
// cost besides the characters: set so that the estimate matches the heap
// bench/cache.ts measures (about 950 bytes for an entry with two groups).
const ENTRY_OVERHEAD = 700

const lengthPrefixed = (value: string) => `${value.length}:${value}`

/** The scope of one resource instance. */
export const resourceScope = (resource: string, id: string) => `r${lengthPrefixed(resource)}${id}`
/** The scope of a resource type: its type-level grants. */
export const typeScope = (resource: string) => `t${resource}`
/** The scope of a principal a membership change reaches. */
export const subjectScope = (kind: 'user' | 'group', id: string) => `${kind === 'user' ? 'u' : 'g'}${id}`

type Asker = { kind: 'user' | 'anonymous', id: string | null, groups: readonly string[] }

// The scopes are needed only to take a ticket (a miss): a hit reads the
// entry's own, so they are built on first use.
class CheckLookup implements Lookup {
  readonly key: string
  readonly #principal: Asker
  readonly #resource: string
  readonly #id: string | null
  #scopes: readonly string[] | undefined

  constructor (key: string, principal: Asker, resource: string, id: string | null) {
    this.key = key
    this.#principal = principal
    this.#resource = resource
    this.#id = id
  }

  get scopes (): readonly string[] {
    if (this.#scopes !== undefined) return this.#scopes
    const principal = this.#principal
    const scopes = [typeScope(this.#resource)]
    if (this.#id !== null) scopes.push(resourceScope(this.#resource, this.#id))
    if (principal.kind === 'user') scopes.push(subjectScope('user', principal.id as string))
    for (const group of principal.groups) scopes.push(subjectScope('group', group))
    this.#scopes = scopes
    return scopes
  }
}

/**
 * The key and scopes of a route check. Length prefixes make the key
 * injective whatever the ids contain.
 */
export function lookupOf (principal: Asker, resource: string, id: string | null, privilege: string): Lookup {
  const user = principal.kind === 'user' ? principal.id as string : null
  let key = `${lengthPrefixed(privilege)}${user === null ? '-' : lengthPrefixed(user)}${lengthPrefixed(resource)}${id === null ? '-' : lengthPrefixed(id)}`
  for (const group of principal.groups) key += lengthPrefixed(group)
  return new CheckLookup(key, principal, resource, id)
}

export class DecisionCache {
  readonly #limits: CacheLimits
  readonly #now: () => number
  readonly #entries = new Map<string, Entry>()
  // The order of use, least recent first, as a list through the entries: a
  // Map's own order served before, but taking its first entry skips every
  // deleted slot before it (V8 compacts a Map only when it rehashes), so
  // with the cache full each eviction cost time in proportion to its size.
  #oldest: Entry | null = null
  #newest: Entry | null = null
  // Only scopes changed since the last drop are here; a missing one is 0.
  readonly #generations = new Map<string, number>()
  readonly #maxGenerations: number
  #epoch = 0
  #bytes = 0
  #on = false
  // The embedded feed is in process and never behind: no bound unless a feed sets one.
  #provenUntil = Infinity
  readonly counters: CacheCounters = { hits: 0, misses: 0, stores: 0, refused: 0, evictions: 0, invalidations: 0 }
  /**
   * With resource hierarchies: for each type, the types that may be below
   * it. A change on a resource (a grant, its owner, its place in the tree)
   * changes answers on what is below it, which its notification does not
   * name: every answer on those types is dropped.
   */
  readonly below: ReadonlyMap<string, readonly string[]>

  constructor (limits: CacheLimits, now: () => number = () => performance.now(), below: ReadonlyMap<string, readonly string[]> = new Map()) {
    this.#limits = limits
    this.#now = now
    this.below = below
    this.#maxGenerations = Math.max(10_000, limits.maxEntries * 4)
  }

  /** Whether answers are served and stored: only while changes are being heard. */
  get on (): boolean { return this.#on && this.#now() < this.#provenUntil }
  get size (): number { return this.#entries.size }
  get bytes (): number { return this.#bytes }

  /** The stored answer, or `undefined`. Synchronous, and never an answer a known change may have made wrong. */
  get (lookup: Lookup): boolean | undefined {
    const entry = this.#on ? this.#entries.get(lookup.key) : undefined
    if (entry === undefined) {
      this.counters.misses++
      return undefined
    }
    const now = this.#now()
    if (entry.epoch !== this.#epoch || entry.until <= now || !this.#current(entry.scopes, entry.generations)) {
      this.#delete(lookup.key, entry)
      this.counters.misses++
      return undefined
    }
    if (now >= this.#provenUntil) {
      this.counters.misses++
      return undefined
    }
    // Least recently used goes first: a hit makes the entry the newest.
    if (entry !== this.#newest) {
      this.#unlink(entry)
      this.#append(entry)
    }
    this.counters.hits++
    return entry.allowed
  }

  /** Call before sending the query whose answer `store` will keep; `null` when nothing would be kept. */
  begin (lookup: Lookup): Ticket | null {
    if (!this.#on) return null
    return { epoch: this.#epoch, generations: lookup.scopes.map((scope) => this.#generations.get(scope) ?? 0) }
  }

  /**
   * Keeps an answer for at most `ttl` milliseconds from `started` (when its
   * query was sent, on this cache's clock), and never past `maxAge`; `null`
   * means no scheduled change bounds it.
   */
  store (lookup: Lookup, ticket: Ticket, allowed: boolean, started: number, ttl: number | null): void {
    const age = ttl === null ? this.#limits.maxAge : Math.min(ttl, this.#limits.maxAge)
    if (!this.#on || ticket.epoch !== this.#epoch || age <= 0 || !this.#current(lookup.scopes, ticket.generations)) {
      this.counters.refused++
      return
    }
    const previous = this.#entries.get(lookup.key)
    if (previous !== undefined) this.#delete(lookup.key, previous)
    let bytes = ENTRY_OVERHEAD + lookup.key.length * 2
    for (const scope of lookup.scopes) bytes += scope.length * 2 + 8
    this.counters.stores++
    const entry: Entry = { key: lookup.key, allowed, until: started + age, epoch: this.#epoch, scopes: lookup.scopes, generations: ticket.generations, bytes, older: null, newer: null }
    this.#entries.set(lookup.key, entry)
    this.#append(entry)
    this.#bytes += bytes
    this.#evict()
  }

  /** A change touched these scopes: what depends on them is not served again. */
  invalidate (scopes: Iterable<string>): void {
    this.counters.invalidations++
    for (const scope of scopes) this.#generations.set(scope, (this.#generations.get(scope) ?? 0) + 1)
    // The generations are bounded too: past the bound, start over.
    if (this.#generations.size > this.#maxGenerations) this.#drop()
  }

  /** Drops every entry, and every answer whose query is in flight. */
  invalidateAll (): void {
    this.counters.invalidations++
    this.#drop()
  }

  /** Stops serving and storing, and drops everything: changes are no longer heard. */
  turnOff (): void {
    this.#on = false
    this.#drop()
  }

  /**
   * Serves nothing from `until` on (this cache's clock) unless proven
   * current again by then: the feed says how long what it has applied is
   * known to be complete. Entries are kept meanwhile: the changes still
   * arrive, in order, and are applied to them.
   */
  provenUntil (until: number): void {
    this.#provenUntil = until
  }

  /** Serves and stores again, from nothing: changes are heard from now on. */
  turnOn (): void {
    this.#drop()
    this.#on = true
  }

  #current (scopes: readonly string[], generations: readonly number[]): boolean {
    for (let i = 0; i < scopes.length; i++) {
      if ((this.#generations.get(scopes[i] as string) ?? 0) !== generations[i]) return false
    }
    return true
  }

  #drop (): void {
    this.#epoch++
    this.#entries.clear()
    this.#oldest = null
    this.#newest = null
    this.#generations.clear()
    this.#bytes = 0
  }

  #delete (key: string, entry: Entry): void {
    this.#entries.delete(key)
    this.#unlink(entry)
    this.#bytes -= entry.bytes
  }

  #append (entry: Entry): void {
    entry.older = this.#newest
    entry.newer = null
    if (this.#newest === null) this.#oldest = entry
    else this.#newest.newer = entry
    this.#newest = entry
  }

  #unlink (entry: Entry): void {
    if (entry.older === null) this.#oldest = entry.newer
    else entry.older.newer = entry.newer
    if (entry.newer === null) this.#newest = entry.older
    else entry.newer.older = entry.older
    entry.older = null
    entry.newer = null
  }

  #evict (): void {
    const { maxEntries, maxBytes } = this.#limits
    while (this.#entries.size > maxEntries || (this.#bytes > maxBytes && this.#entries.size > 0)) {
      const entry = this.#oldest as Entry
      this.#delete(entry.key, entry)
      this.counters.evictions++
    }
  }
}
