import { RulesConfigError } from './errors.js'
import type { CompileOptions, LevelOrder } from './types.js'

const DEFAULT_LEVELS: readonly string[] = Object.freeze(['reader', 'builder', 'creator', 'admin', 'superuser'])
const DEFAULT_LEVEL_ALIASES: Readonly<Record<string, string>> = Object.freeze({ editor: 'builder' })
const DEFAULT_MAX_ELEVATE = 'creator'
const ADMIN_LEVEL = 'admin'

export interface ResolvedLevels {
  readonly order: LevelOrder
  /** Highest rank an `elevate` may target. */
  readonly maxElevateRank: number
}

export function resolveLevels (options: CompileOptions): ResolvedLevels {
  const names = options.levels ?? DEFAULT_LEVELS
  if (!Array.isArray(names) || names.length === 0) {
    throw new RulesConfigError('options.levels', 'must be a non-empty array of level names')
  }
  const rank = new Map<string, number>()
  for (const [index, name] of names.entries()) {
    if (typeof name !== 'string' || name === '') throw new RulesConfigError(`options.levels[${index}]`, 'must be a non-empty string')
    if (rank.has(name)) throw new RulesConfigError(`options.levels[${index}]`, `duplicate level "${name}"`)
    rank.set(name, index)
  }

  // Default aliases describe the default levels; applying them to a custom
  // ordering could silently map a name onto an unrelated level.
  const aliases = options.levelAliases ?? (options.levels === undefined ? DEFAULT_LEVEL_ALIASES : {})
  for (const [alias, target] of Object.entries(aliases)) {
    const pointer = `options.levelAliases.${alias}`
    if (rank.has(alias)) throw new RulesConfigError(pointer, `alias "${alias}" is already a level name`)
    const targetRank = typeof target === 'string' && names.includes(target) ? rank.get(target) : undefined
    if (targetRank === undefined) throw new RulesConfigError(pointer, `alias targets unknown level "${String(target)}"`)
    rank.set(alias, targetRank)
  }

  const maxElevate = options.maxElevate ?? DEFAULT_MAX_ELEVATE
  const maxElevateRank = rank.get(maxElevate)
  if (maxElevateRank === undefined) {
    throw new RulesConfigError('options.maxElevate', `unknown level "${maxElevate}"`)
  }
  const adminRank = rank.get(ADMIN_LEVEL)
  if (adminRank !== undefined && maxElevateRank >= adminRank) {
    throw new RulesConfigError('options.maxElevate', 'elevation must stay below admin')
  }
  return { order: { names: Object.freeze([...names]), rank }, maxElevateRank }
}
