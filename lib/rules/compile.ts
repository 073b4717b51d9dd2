import { createHash } from 'node:crypto'
import { RulesConfigError } from './errors.js'
import { AddressCache, compileIpList } from './ip.js'
import { KeyMatcher } from './key-matcher.js'
import { resolveLevels, type ResolvedLevels } from './levels.js'
import { isPlainObject } from './object.js'
import { normalizePathBody, RESERVED_KEY_CHARACTER } from './path.js'
import { anchoredRegExp, patternProblem } from './pattern.js'
import type {
  CompileOptions,
  CompiledGroup,
  CompiledPathKey,
  CompiledRule,
  CompiledRules,
  RuleCondition,
  RulesSettings,
  RuleType
} from './types.js'

const DEFAULT_SETTINGS: Readonly<RulesSettings> = Object.freeze({ diagnostics: false, lockout: false })
const TOP_LEVEL_KEYS = new Set(['paths', 'groups', 'settings'])
const MODIFIERS = ['terminal', 'secure', 'elevate', 'demote']

// `deny` stays on whitelist/isuser only: what it would mean on a userlevel
// rule is not defined, so it is refused rather than guessed.
const RULE_PROPERTIES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['block', new Set(MODIFIERS)],
  ['open', new Set(MODIFIERS)],
  ['whitelist', new Set([...MODIFIERS, 'list', 'deny'])],
  ['isuser', new Set([...MODIFIERS, 'list', 'deny'])],
  ['userlevel', new Set([...MODIFIERS, 'level'])],
  ['token', new Set([...MODIFIERS, 'header', 'value', 'list'])],
  ['cert', new Set([...MODIFIERS, 'name'])]
])

const PARAM_PREFIX = 'param_'
const PARAM_NAME = /^[A-Za-z0-9_.[\]-]+$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

interface Context {
  readonly levels: ResolvedLevels
}

type Source = Record<string, unknown>

/**
 * Validate a parsed rules file and precompute everything evaluation needs.
 * Throws RulesConfigError naming the first problem found.
 */
export function compileRules (source: unknown, options: CompileOptions = {}): CompiledRules {
  const caseSensitive = options.caseSensitive ?? true
  if (typeof caseSensitive !== 'boolean') throw new RulesConfigError('options.caseSensitive', 'must be a boolean')
  const context: Context = { levels: resolveLevels(options) }

  if (!isPlainObject(source)) throw new RulesConfigError('', 'the rules file must contain a JSON object')
  for (const key of Object.keys(source)) {
    if (!TOP_LEVEL_KEYS.has(key)) throw new RulesConfigError(key, `unknown top-level key "${key}"`)
  }
  if (!isPlainObject(source.paths)) throw new RulesConfigError('paths', 'must be an object of path → group name')
  if (!isPlainObject(source.groups)) throw new RulesConfigError('groups', 'must be an object of group name → rules')

  const groups = new Map<string, CompiledGroup>()
  for (const [name, raw] of Object.entries(source.groups)) {
    groups.set(name, compileGroup(name, raw, context))
  }

  const keys: CompiledPathKey[] = []
  const seen = new Map<string, string>()
  for (const [key, groupName] of Object.entries(source.paths)) {
    const pointer = `paths.${key}`
    if (typeof groupName !== 'string') throw new RulesConfigError(pointer, 'must name a group')
    const group = groups.get(groupName)
    if (group === undefined) throw new RulesConfigError(pointer, `undefined group "${groupName}"`)
    const { path, folder } = compileKey(key, caseSensitive, pointer)
    const identity = `${folder ? 'folder' : 'exact'}:${path}`
    const earlier = seen.get(identity)
    if (earlier !== undefined) throw new RulesConfigError(pointer, `same path as "${earlier}" after normalisation`)
    seen.set(identity, key)
    keys.push(Object.freeze({ key, path, folder, group }))
  }
  keys.sort(byEvaluationOrder)
  const ordered = Object.freeze(keys)

  return Object.freeze({
    settings: compileSettings(source.settings),
    keys: ordered,
    levels: context.levels.order,
    caseSensitive,
    hasReservedKey: keys.some(entry => RESERVED_KEY_CHARACTER.test(entry.path)),
    // Each compiled rule set remembers for itself, so plugin instances
    // share nothing and a reload starts afresh.
    matcher: new KeyMatcher(ordered),
    addresses: new AddressCache()
  })
}

/** Most specific first, deterministic on ties. */
function byEvaluationOrder (a: CompiledPathKey, b: CompiledPathKey): number {
  if (a.path.length !== b.path.length) return b.path.length - a.path.length
  if (a.folder !== b.folder) return a.folder ? 1 : -1
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0
}

function compileKey (key: string, caseSensitive: boolean, pointer: string): { path: string, folder: boolean } {
  if (key === '') throw new RulesConfigError(pointer, 'empty path key')
  const body = key.startsWith('/') ? key.slice(1) : key
  // The key "/" is the root folder: it covers every path.
  const folder = body === '' || body.endsWith('/')
  const path = normalizePathBody(body, caseSensitive)
  if (path === null) {
    throw new RulesConfigError(pointer, 'invalid path key (bad percent-encoding, empty, "." or ".." segments, backslashes, semicolons or encoded slashes)')
  }
  return { path, folder }
}

function compileSettings (raw: unknown): Readonly<RulesSettings> {
  if (raw === undefined) return DEFAULT_SETTINGS
  if (!isPlainObject(raw)) throw new RulesConfigError('settings', 'must be an object')
  const settings: RulesSettings = { ...DEFAULT_SETTINGS }
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'diagnostics' && key !== 'lockout') throw new RulesConfigError(`settings.${key}`, `unknown setting "${key}"`)
    if (typeof value !== 'boolean') throw new RulesConfigError(`settings.${key}`, 'must be true or false')
    settings[key] = value
  }
  return Object.freeze(settings)
}

function compileGroup (name: string, raw: unknown, context: Context): CompiledGroup {
  const pointer = `groups.${name}`
  let alternatives: CompiledRule[][]
  if (!Array.isArray(raw)) {
    alternatives = [[compileRule(raw, pointer, context)]]
  } else if (raw.length === 0) {
    throw new RulesConfigError(pointer, 'empty array')
  } else if (Array.isArray(raw[0])) {
    alternatives = raw.map((alternative: unknown, i) => {
      const altPointer = `${pointer}[${i}]`
      if (!Array.isArray(alternative)) throw new RulesConfigError(altPointer, 'mixes rules and arrays in one array')
      if (alternative.length === 0) throw new RulesConfigError(altPointer, 'empty array')
      return alternative.map((rule: unknown, j) => {
        if (Array.isArray(rule)) throw new RulesConfigError(`${altPointer}[${j}]`, 'arrays nest at most two deep')
        return compileRule(rule, `${altPointer}[${j}]`, context)
      })
    })
  } else {
    alternatives = [raw.map((rule: unknown, i) => {
      if (Array.isArray(rule)) throw new RulesConfigError(`${pointer}[${i}]`, 'mixes rules and arrays in one array')
      return compileRule(rule, `${pointer}[${i}]`, context)
    })]
  }
  const hasParams = alternatives.some(rules => rules.some(rule => rule.params.length > 0))
  return Object.freeze({ name, alternatives: Object.freeze(alternatives.map(rules => Object.freeze(rules))), hasParams })
}

function compileRule (raw: unknown, pointer: string, context: Context): CompiledRule {
  if (!isPlainObject(raw)) throw new RulesConfigError(pointer, 'a rule must be an object')
  const type = raw.type
  if (typeof type !== 'string') throw new RulesConfigError(`${pointer}.type`, 'missing rule type')
  const allowed = RULE_PROPERTIES.get(type)
  // Unknown types, including the legacy "useraccess", fail closed.
  if (allowed === undefined) throw new RulesConfigError(`${pointer}.type`, `unknown rule type "${type}"`)

  const params: Array<{ name: string, pattern: RegExp }> = []
  for (const key of Object.keys(raw)) {
    if (key === 'type') continue
    if (key.startsWith(PARAM_PREFIX)) {
      const name = key.slice(PARAM_PREFIX.length)
      if (!PARAM_NAME.test(name)) throw new RulesConfigError(`${pointer}.${key}`, `invalid parameter name "${name}"`)
      params.push({ name, pattern: compilePattern(raw[key], `${pointer}.${key}`) })
    } else if (key === 'deny') {
      if (!allowed.has(key)) throw new RulesConfigError(`${pointer}.deny`, `"deny" is only allowed on whitelist and isuser rules, not "${type}"`)
    } else if (!allowed.has(key)) {
      throw new RulesConfigError(`${pointer}.${key}`, `unknown property "${key}" on a "${type}" rule`)
    }
  }

  const condition = compileCondition(type as RuleType, raw, pointer, context)
  const { levels } = context
  let elevate = -1
  if (raw.elevate !== undefined) {
    elevate = levelRank(raw.elevate, `${pointer}.elevate`, levels)
    if (elevate > levels.maxElevateRank) {
      throw new RulesConfigError(`${pointer}.elevate`, `cannot elevate to "${String(raw.elevate)}"; the highest allowed level is "${levels.order.names[levels.maxElevateRank]}"`)
    }
  }
  return Object.freeze({
    ...condition,
    terminal: flag(raw.terminal, `${pointer}.terminal`),
    secure: flag(raw.secure, `${pointer}.secure`),
    elevate,
    demote: raw.demote === undefined ? -1 : levelRank(raw.demote, `${pointer}.demote`, levels),
    params: Object.freeze(params)
  })
}

function compileCondition (type: RuleType, raw: Source, pointer: string, context: Context): RuleCondition {
  switch (type) {
    case 'block':
    case 'open':
      return { type }
    case 'whitelist': {
      const list = stringList(raw.list, `${pointer}.list`)
      const matcher = compileIpList(list)
      if ('error' in matcher) throw new RulesConfigError(`${pointer}.list[${matcher.index}]`, matcher.error)
      return { type, deny: flag(raw.deny, `${pointer}.deny`), matcher }
    }
    case 'isuser':
      return { type, deny: flag(raw.deny, `${pointer}.deny`), users: new Set(stringList(raw.list, `${pointer}.list`)) }
    case 'userlevel':
      if (raw.level === undefined) throw new RulesConfigError(`${pointer}.level`, 'missing level')
      return { type, rank: levelRank(raw.level, `${pointer}.level`, context.levels) }
    case 'token':
      return compileToken(raw, pointer)
    case 'cert':
      return { type, name: raw.name === undefined ? null : compilePattern(raw.name, `${pointer}.name`) }
  }
}

function compileToken (raw: Source, pointer: string): RuleCondition {
  if (typeof raw.header !== 'string' || !HEADER_NAME.test(raw.header)) {
    throw new RulesConfigError(`${pointer}.header`, 'a token rule needs a valid header name')
  }
  if (raw.value !== undefined && raw.list !== undefined) {
    throw new RulesConfigError(pointer, 'give the tokens as either "value" or "list", not both')
  }
  const key = raw.value !== undefined ? 'value' : 'list'
  const tokensRaw = raw[key]
  if (tokensRaw === undefined) throw new RulesConfigError(`${pointer}.value`, 'a token rule needs at least one token')
  const tokens = typeof tokensRaw === 'string' ? [tokensRaw] : stringList(tokensRaw, `${pointer}.${key}`)
  for (const [index, token] of tokens.entries()) {
    const tokenPointer = typeof tokensRaw === 'string' ? `${pointer}.${key}` : `${pointer}.${key}[${index}]`
    if (token === '') throw new RulesConfigError(tokenPointer, 'empty token')
    // Node trims surrounding whitespace from header values, so such a token
    // could never match; refuse it rather than lock the caller out silently.
    if (token.trim() !== token) throw new RulesConfigError(tokenPointer, 'token has leading or trailing whitespace')
  }
  // Digests have a fixed length, so comparing them in constant time also hides
  // the token's length.
  return { type: 'token', header: raw.header.toLowerCase(), digests: Object.freeze(tokens.map(sha256)) }
}

export function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

function compilePattern (raw: unknown, pointer: string): RegExp {
  if (typeof raw !== 'string') throw new RulesConfigError(pointer, 'pattern must be a string')
  const problem = patternProblem(raw)
  if (problem !== null) throw new RulesConfigError(pointer, problem)
  return anchoredRegExp(raw)
}

function levelRank (raw: unknown, pointer: string, levels: ResolvedLevels): number {
  const rank = typeof raw === 'string' ? levels.order.rank.get(raw) : undefined
  if (rank === undefined) throw new RulesConfigError(pointer, `unknown level "${String(raw)}"`)
  return rank
}

function flag (raw: unknown, pointer: string): boolean {
  if (raw === undefined || raw === false || raw === 0) return false
  if (raw === true || raw === 1) return true
  throw new RulesConfigError(pointer, 'must be true, false, 1 or 0')
}

function stringList (raw: unknown, pointer: string): string[] {
  if (!Array.isArray(raw)) throw new RulesConfigError(pointer, 'must be an array of strings')
  if (raw.length === 0) throw new RulesConfigError(pointer, 'empty array')
  for (const [index, item] of raw.entries()) {
    if (typeof item !== 'string' || item === '') throw new RulesConfigError(`${pointer}[${index}]`, 'must be a non-empty string')
  }
  return raw as string[]
}
