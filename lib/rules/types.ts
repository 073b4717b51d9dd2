import type { EndpointRules, FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import type { AddressCache, IpMatcher } from './ip.js'

/** A rules file's `settings`, with every default filled in. */
export type RulesSettings = Required<NonNullable<EndpointRules['settings']>>

/** The level options of the plugin, and the router's case sensitivity. */
export type CompileOptions = Pick<FastifyDefaultDenyOptions, 'levels' | 'levelAliases' | 'maxElevate'> & {
  /** Match the Fastify router's case sensitivity. @default true */
  caseSensitive?: boolean
}

export interface LevelOrder {
  /** Canonical names, lowest first; a level's rank is its index. */
  readonly names: readonly string[]
  /** Rank by canonical name or alias. */
  readonly rank: ReadonlyMap<string, number>
}

export type RuleType = 'block' | 'open' | 'whitelist' | 'isuser' | 'userlevel' | 'token' | 'cert'

export type RuleCondition =
  | { readonly type: 'block' }
  | { readonly type: 'open' }
  | { readonly type: 'whitelist', readonly deny: boolean, readonly matcher: IpMatcher }
  | { readonly type: 'isuser', readonly deny: boolean, readonly users: ReadonlySet<string> }
  | { readonly type: 'userlevel', readonly rank: number }
  | { readonly type: 'token', readonly header: string, readonly digests: readonly Buffer[] }
  | { readonly type: 'cert', readonly name: RegExp | null }

export type CompiledRule = RuleCondition & {
  readonly terminal: boolean
  readonly secure: boolean
  /** Level ranks, or -1 when absent. */
  readonly elevate: number
  readonly demote: number
  readonly params: ReadonlyArray<{ readonly name: string, readonly pattern: RegExp }>
}

export interface CompiledGroup {
  readonly name: string
  /** Every group as an OR of AND-lists. */
  readonly alternatives: ReadonlyArray<readonly CompiledRule[]>
  readonly hasParams: boolean
}

export interface CompiledPathKey {
  /** The key as written in the file, for diagnostics. */
  readonly key: string
  /** Normalised key without leading or trailing slash. */
  readonly path: string
  readonly folder: boolean
  readonly group: CompiledGroup
}

export interface CompiledRules {
  readonly settings: Readonly<RulesSettings>
  /** Evaluation order: longest key first, exact before folder, then lexical. */
  readonly keys: readonly CompiledPathKey[]
  readonly levels: LevelOrder
  readonly caseSensitive: boolean
  /**
   * Some key contains a character the router leaves percent-encoded in static
   * paths (`#$%&+,:;=?@`): request paths with those encodings are refused.
   */
  readonly hasReservedKey: boolean
  /** Which keys match a path, remembered for this rule set's recent paths. */
  readonly matcher: { match: (path: string) => Matching }
  /** Client addresses parsed for this rule set, remembered for recent ones. */
  readonly addresses: AddressCache
}

export interface Matching {
  /** The keys that match a path, in evaluation order. */
  readonly keys: readonly CompiledPathKey[]
  readonly hasParams: boolean
}

export interface RequestFacts {
  /** Output of normalizeRequestPath; null denies. */
  path: string | null
  /** `request.ip`; anything that is not a strict IP matches no whitelist entry. */
  ip: string
  /** Whether the request came over HTTPS (`request.protocol === 'https'`). */
  secure: boolean
  headers: Record<string, string | string[] | undefined>
  /**
   * The headers as received (`request.raw.rawHeaders`: name, value, name, …).
   * Node keeps only the first of some repeated headers (authorization,
   * user-agent, …); with these, a token header sent twice is still refused.
   */
  rawHeaders?: readonly string[]
  /** Authenticated user name; null for the anonymous principal. */
  user: string | null
  /** The principal's own level; null when anonymous or without a level. */
  level: string | null
  cert: { verified: boolean, subjectCN: string | null } | null
  query: Record<string, unknown> | null
  /** Parsed body, or undefined when it has not been parsed. */
  body: unknown
  /** The raw path ended with `/` (terminal exact keys then do not stop evaluation). */
  trailingSlash?: boolean
}

export type RulesOutcome =
  | {
    allow: true
    /** Path keys that were evaluated, in order. */
    matched: string[]
    elevate: string | null
    demote: string | null
    /** The key whose terminal rule stopped evaluation. */
    terminalKey: string | null
  }
  | { allow: false, reason: 'lockout' }
  | { allow: false, reason: 'invalid-path' }
  | { allow: false, reason: 'rule', pathKey: string, group: string, ruleType: string }
