import type { AddressCache, IpMatcher } from './ip.js'
import type { KeyMatcher } from './key-matcher.js'

/** A flag as written in ARDI rules files: `true`/`1` for on, `false`/`0` for off. */
export type RuleFlag = boolean | 0 | 1

/** Modifiers accepted on every rule type. */
export interface RuleModifiers {
  /** Stop evaluating less specific paths when the alternative holding this rule passes. */
  terminal?: RuleFlag
  /** The rule fails unless the request came over HTTPS. */
  secure?: RuleFlag
  /** Raise the request's level (at most `maxElevate`) when the alternative passes. */
  elevate?: string
  /** Cap the request's level when the alternative passes. */
  demote?: string
  /** `param_<NAME>`: every value of parameter NAME must fully match this pattern. */
  [param: `param_${string}`]: string
}

export interface BlockRuleSource extends RuleModifiers { type: 'block' }
export interface OpenRuleSource extends RuleModifiers { type: 'open' }
export interface WhitelistRuleSource extends RuleModifiers {
  type: 'whitelist'
  /** IPv4/IPv6 addresses, `localhost`, `a.b.c.x-y` last-octet ranges or CIDR blocks. */
  list: string[]
  /** Turns the whitelist into a blacklist. */
  deny?: RuleFlag
}
export interface IsUserRuleSource extends RuleModifiers {
  type: 'isuser'
  /** Exact, case-sensitive user names. */
  list: string[]
  deny?: RuleFlag
}
export interface UserLevelRuleSource extends RuleModifiers {
  type: 'userlevel'
  /** Minimum level, by name or alias. */
  level: string
}
export interface TokenRuleSource extends RuleModifiers {
  type: 'token'
  /** Header name, matched case-insensitively. */
  header: string
  /** Accepted token(s). `list` is a synonym; give one of the two. */
  value?: string | string[]
  list?: string | string[]
}
export interface CertRuleSource extends RuleModifiers {
  type: 'cert'
  /** Pattern the whole subject CN must match. */
  name?: string
}

export type RuleSource =
  | BlockRuleSource
  | OpenRuleSource
  | WhitelistRuleSource
  | IsUserRuleSource
  | UserLevelRuleSource
  | TokenRuleSource
  | CertRuleSource

/** One rule, an AND-list of rules, or an OR-list of AND-lists. */
export type GroupSource = RuleSource | RuleSource[] | RuleSource[][]

export interface RulesSettings {
  /** Name the failing path key, group and rule type in denials. @default false */
  diagnostics: boolean
  /** Deny every request. @default false */
  lockout: boolean
}

/** The shape of a rules file (`security.rules`). */
export interface RulesSource {
  /** Path key → group name. A key ending in `/` covers a whole folder. */
  paths: Record<string, string>
  groups: Record<string, GroupSource>
  settings?: Partial<RulesSettings>
}

export interface CompileOptions {
  /** Level names ordered from lowest to highest. @default ['reader','builder','creator','admin','superuser'] */
  levels?: string[]
  /** Extra names for levels. @default { editor: 'builder' } (only with the default `levels`) */
  levelAliases?: Record<string, string>
  /** Highest level `elevate` may target; must be below `admin`. @default 'creator' */
  maxElevate?: string
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
  readonly matcher: KeyMatcher
  /** Client addresses parsed for this rule set, remembered for recent ones. */
  readonly addresses: AddressCache
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
