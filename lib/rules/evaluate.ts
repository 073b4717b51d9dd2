import { timingSafeEqual } from 'node:crypto'
import { sha256 } from './compile.js'
import { ipMatches, type AddressCache, type ParsedAddress } from './ip.js'
import { isPlainObject } from './object.js'
import { fullMatch } from './pattern.js'
import type { CompiledGroup, CompiledRule, CompiledRules, RequestFacts, RulesOutcome } from './types.js'

/** Per-request state: the client address is parsed at most once. */
class Request {
  readonly facts: RequestFacts
  readonly levelRank: number
  readonly #addresses: AddressCache
  #address: ParsedAddress | null | undefined

  constructor (compiled: CompiledRules, facts: RequestFacts) {
    this.facts = facts
    this.levelRank = rankOf(compiled, facts.level)
    this.#addresses = compiled.addresses
  }

  get address (): ParsedAddress | null {
    if (this.#address === undefined) this.#address = this.#addresses.parse(this.facts.ip)
    return this.#address
  }
}

interface GroupResult {
  pass: boolean
  terminal: boolean
  elevate: number
  demote: number
  failedType: string
}

/**
 * Decide whether the endpoint rules let a request through. Synchronous and
 * free of I/O; a path no key matches is allowed, since this layer only adds
 * objections.
 */
export function evaluateRules (compiled: CompiledRules, facts: RequestFacts): RulesOutcome {
  if (compiled.settings.lockout) return { allow: false, reason: 'lockout' }
  const path = facts.path
  if (path === null) return { allow: false, reason: 'invalid-path' }

  const request = new Request(compiled, facts)
  const matched: string[] = []
  let elevate = -1
  let demote = Infinity
  let terminalKey: string | null = null
  for (const entry of compiled.matcher.match(path).keys) {
    matched.push(entry.key)
    const result = evaluateGroup(entry.group, request)
    if (!result.pass) {
      return { allow: false, reason: 'rule', pathKey: entry.key, group: entry.group.name, ruleType: result.failedType }
    }
    elevate = Math.max(elevate, result.elevate)
    demote = Math.min(demote, result.demote)
    // A terminal exact key does not stop evaluation for `/key/`: the router
    // may dispatch that path to another route (a wildcard under a blocked
    // folder), so the less specific keys must still be evaluated.
    if (result.terminal && !(facts.trailingSlash === true && !entry.folder)) {
      terminalKey = entry.key
      break
    }
  }
  const names = compiled.levels.names
  return {
    allow: true,
    matched,
    elevate: elevate >= 0 ? names[elevate] ?? null : null,
    demote: demote !== Infinity ? names[demote] ?? null : null,
    terminalKey
  }
}

/**
 * Whether any key matching `path` filters on parameters, so the rules must be
 * evaluated once the body has been parsed.
 */
export function requiresBody (compiled: CompiledRules, path: string | null): boolean {
  if (path === null) return false
  return compiled.matcher.match(path).hasParams
}

/**
 * The level a request acts with: `min(demote, max(base, elevate))`, so a
 * demote always wins. Unknown names count as no level for `base` and
 * `elevate`; an unknown `demote` caps at the lowest level.
 */
export function effectiveLevel (compiled: CompiledRules, base: string | null, elevate: string | null, demote: string | null): string | null {
  let rank = rankOf(compiled, base)
  if (elevate !== null) rank = Math.max(rank, rankOf(compiled, elevate))
  if (demote !== null) {
    // A demote caps a principal with no level too: capping is never a grant,
    // and leaving such callers uncapped would let the demote be dodged.
    const cap = rankOf(compiled, demote)
    rank = rank >= 0 ? Math.min(rank, cap >= 0 ? cap : 0) : (cap >= 0 ? cap : 0)
  }
  return rank >= 0 ? compiled.levels.names[rank] ?? null : null
}

function rankOf (compiled: CompiledRules, level: string | null): number {
  if (typeof level !== 'string') return -1
  return compiled.levels.rank.get(level) ?? -1
}

// Every alternative is evaluated, and the passing one that leaves the request
// least restricted supplies elevate and demote (the first on a tie). So a
// parameter filter written as `open` first and an elevating rule second still
// elevates local callers, and with `open + secure` beside `open + demote`,
// HTTPS callers keep their level while plain-HTTP callers are demoted.
// Terminal counts when any alternative holding it passed. When all fail, the
// first failing rule of the last alternative is reported.
function evaluateGroup (group: CompiledGroup, request: Request): GroupResult {
  const result: GroupResult = { pass: false, terminal: false, elevate: -1, demote: Infinity, failedType: '' }
  let best = -Infinity
  for (const rules of group.alternatives) {
    const failing = rules.find(rule => !rulePasses(rule, request))
    if (failing !== undefined) {
      result.failedType = failing.type
      continue
    }
    let elevate = -1
    let demote = Infinity
    for (const rule of rules) {
      result.terminal ||= rule.terminal
      if (rule.elevate >= 0) elevate = Math.max(elevate, rule.elevate)
      if (rule.demote >= 0) demote = Math.min(demote, rule.demote)
    }
    // An undemoted alternative beats a demoted one (a principal without a
    // level is not "below reader" for capping); then the higher level wins.
    const rank = (demote === Infinity ? 1000 : 0) + Math.min(demote, Math.max(request.levelRank, elevate))
    if (!result.pass || rank > best) {
      best = rank
      result.elevate = elevate
      result.demote = demote
    }
    result.pass = true
  }
  return result
}

function rulePasses (rule: CompiledRule, request: Request): boolean {
  if (rule.secure && request.facts.secure !== true) return false
  if (!conditionPasses(rule, request)) return false
  return rule.params.every(param => paramPasses(param.name, param.pattern, request.facts))
}

function conditionPasses (rule: CompiledRule, request: Request): boolean {
  const facts = request.facts
  switch (rule.type) {
    case 'block':
      return false
    case 'open':
      return true
    case 'whitelist': {
      // An address that does not parse strictly fails both a whitelist and a
      // blacklist: a blacklist must not be dodged with `127.1` or junk.
      const parsed = request.address
      if (parsed === null) return false
      return ipMatches(rule.matcher, parsed.address, parsed.key) !== rule.deny
    }
    case 'isuser': {
      // The anonymous principal is never on the list, so it fails a plain
      // isuser and passes a deny list: a deny list names who to keep out,
      // and keeping anonymous callers out is the job of other rules.
      const listed = typeof facts.user === 'string' && rule.users.has(facts.user)
      return listed !== rule.deny
    }
    case 'userlevel':
      // Judged on the principal's own level: elevate/demote are outputs of
      // this evaluation, and feeding them back would make results depend on
      // key order.
      return request.levelRank >= 0 && request.levelRank >= rule.rank
    case 'token':
      return facts.secure === true && tokenMatches(rule.header, rule.digests, facts)
    case 'cert': {
      if (facts.cert?.verified !== true) return false
      if (rule.name === null) return true
      const cn = facts.cert.subjectCN
      return typeof cn === 'string' && fullMatch(rule.name, cn)
    }
  }
}

function tokenMatches (header: string, digests: readonly Buffer[], facts: RequestFacts): boolean {
  const value = singleHeader(facts.headers, header)
  if (value === null) return false
  if (facts.rawHeaders !== undefined && rawCount(facts.rawHeaders, header) !== 1) return false
  const digest = sha256(value)
  let match = false
  for (const expected of digests) {
    // Compare against every token, without short-circuiting.
    match = timingSafeEqual(digest, expected) || match
  }
  return match
}

// A repeated header (an array, or two keys differing only in case) is
// ambiguous and never matches. Node joins some duplicates with ", ", which
// then simply fails to equal any configured token.
function singleHeader (headers: RequestFacts['headers'], name: string): string | null {
  if (typeof headers !== 'object' || headers === null) return null
  let found: string | null = null
  let count = 0
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue
    count += 1
    const value = headers[key]
    found = typeof value === 'string' ? value : null
  }
  return count === 1 ? found : null
}

// How often a header was sent: `name` is lower-case, raw names are as sent.
function rawCount (rawHeaders: readonly string[], name: string): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) count += 1
  }
  return count
}

// Every value of the parameter, from the query string and the top-level body,
// must fully match; a missing parameter fails.
function paramPasses (name: string, pattern: RegExp, facts: RequestFacts): boolean {
  let values = 0
  for (const source of [facts.query, isPlainObject(facts.body) ? facts.body : null]) {
    if (typeof source !== 'object' || source === null || !Object.hasOwn(source, name)) continue
    const raw = source[name]
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false
      if (!fullMatch(pattern, String(value))) return false
      values += 1
    }
  }
  return values > 0
}
