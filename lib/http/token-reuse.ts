// The `tokenReuse` option: what `request.jwtVerify()` answered for an
// Authorization header, kept for the next request that sends the very same
// header. With a fixed key, no `trusted` and no `formatUser`, @fastify/jwt's
// answer for the same bytes changes only with the clock (`exp`, `nbf`, `iat`
// with `verify.maxAge`), so within those bounds reuse answers as it would.
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import type { JwtForReuse, TokenReuseSettings } from '../options/token-reuse.js'

// V8 hashes a string of more than 16,383 characters by its length alone, so
// looking one up would compare it with every kept header of that length, a
// byte at a time. Shorter ones are compared only on an equal hash (seeded at
// random per process), which the sender of a guess can neither choose nor
// see: the lookup tells nothing of a kept token's bytes. Longer ones are
// verified every time.
export const MAX_REUSED_HEADER = 8192
// The claims (about the size of the token), the principal and the entry, per character of the header.
const BYTES_PER_CHARACTER = 4
const ENTRY_BYTES = 400

export interface Reused {
  /** What `request.jwtVerify()` answered: the token's claims, frozen. */
  readonly claims: Record<string, unknown>
  /** `null` with `resolvePrincipal`, which runs on every request. */
  readonly principal: Principal | null
}

interface Entry extends Reused {
  /** Reused while `from <= now < until` (milliseconds since the epoch). */
  readonly from: number
  readonly until: number
  readonly bytes: number
}

function sameJson (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((key) => Object.hasOwn(b, key) && sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
}

function deepFreeze (value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const inner of Object.values(value)) deepFreeze(inner)
}

/** The payload the header's token carries, parsed as fast-jwt parses it; undefined when it cannot be read. */
function payloadOf (header: string): Record<string, unknown> | undefined {
  const parts = header.slice(header.indexOf(' ') + 1).split('.')
  if (parts.length !== 3) return undefined
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'))
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? payload as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

export class TokenReuse {
  readonly #settings: TokenReuseSettings
  readonly #jwt: JwtForReuse
  readonly #now: () => number
  // Insertion order is age: the first key is the oldest.
  readonly #entries = new Map<string, Entry>()
  #bytes = 0

  constructor (settings: TokenReuseSettings, jwt: JwtForReuse, now: () => number = () => Date.now()) {
    this.#settings = settings
    this.#jwt = jwt
    this.#now = now
  }

  /** The host's test of a token, run on every request; `null`: none. */
  get trusted (): TokenReuseSettings['trusted'] { return this.#settings.trusted }
  get size (): number { return this.#entries.size }
  get bytes (): number { return this.#bytes }

  /**
   * What the verification of this request's exact Authorization header
   * answered, while within its bounds; sets `request.user` (or @fastify/jwt's
   * `decoratorName`) as `jwtVerify()` would have.
   */
  seen (request: FastifyRequest): Reused | undefined {
    const header = request.headers.authorization
    if (header === undefined) return undefined
    const entry = this.#entries.get(header)
    if (entry === undefined) return undefined
    const now = this.#now()
    if (now < entry.from || now >= entry.until) {
      this.#drop(header, entry)
      return undefined
    }
    (request as unknown as Record<string, unknown>)[this.#jwt.decoratorName] = entry.claims
    return entry
  }

  /**
   * Keeps what `request.jwtVerify()` answered for this request, when it is
   * the token's own payload (no `formatUser` changed it) and the token is
   * valid now by its own times.
   */
  remember (request: FastifyRequest, claims: Record<string, unknown>, principal: Principal | null): void {
    const header = request.headers.authorization
    if (header === undefined || header.length > MAX_REUSED_HEADER) return
    const payload = payloadOf(header)
    if (payload === undefined || !sameJson(claims, payload)) return
    const now = this.#now()
    let until = now + this.#settings.maxAge
    // fast-jwt's clock tolerance is left out: a reused token ends no later than its own exp.
    if (typeof payload.exp === 'number') until = Math.min(until, payload.exp * 1000)
    if (this.#jwt.maxAge !== null && typeof payload.iat === 'number') until = Math.min(until, payload.iat * 1000 + this.#jwt.maxAge)
    const from = typeof payload.nbf === 'number' ? payload.nbf * 1000 : -Infinity
    if (!(now < until) || now < from) return
    const bytes = header.length * BYTES_PER_CHARACTER + ENTRY_BYTES
    if (bytes > this.#settings.maxBytes) return
    // Shared by every request that sends the token: no handler may change it for the next.
    deepFreeze(claims)
    const old = this.#entries.get(header)
    if (old !== undefined) this.#drop(header, old)
    while (this.#entries.size >= this.#settings.maxEntries || this.#bytes + bytes > this.#settings.maxBytes) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, Entry]
      this.#drop(oldest, entry)
    }
    this.#entries.set(header, { claims, principal, from, until, bytes })
    this.#bytes += bytes
  }

  /** Empties the map (a rotated key); returns how many tokens it held. */
  forget (): number {
    const count = this.#entries.size
    this.#entries.clear()
    this.#bytes = 0
    return count
  }

  #drop (header: string, entry: Entry): void {
    this.#entries.delete(header)
    this.#bytes -= entry.bytes
  }
}
