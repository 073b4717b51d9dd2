// Endpoint rules: inline or from files, watched or not, and the level names
// they use. The rules engine validates the rules and levels themselves, with
// messages that point at the offending entry.
import type { RulesConfig } from '../rules/reloader.js'
import { booleanOption, invalid, optionalString } from './values.js'

export interface RulesOptions extends RulesConfig {
  readonly watch: boolean
  readonly levels: string[] | undefined
  readonly levelAliases: Record<string, string> | undefined
  readonly maxElevate: string | undefined
}

/** The endpoint rules, or `null` when none are configured. */
export function rulesOptions (opts: Record<string, unknown>): RulesOptions | null {
  const rulesFile = optionalString(opts, 'rulesFile')
  const siteRulesFile = optionalString(opts, 'siteRulesFile')
  const hasFiles = rulesFile !== null || siteRulesFile !== null
  if (opts.rules !== undefined && hasFiles) invalid('rules', "and 'rulesFile'/'siteRulesFile' are exclusive")
  const watch = booleanOption(opts, 'watchRules', false)
  if (watch && !hasFiles) invalid('watchRules', "needs 'rulesFile' or 'siteRulesFile'")
  if (opts.rules === undefined && !hasFiles) {
    for (const name of ['levels', 'levelAliases', 'maxElevate']) {
      if (opts[name] !== undefined) invalid(name, 'only applies with endpoint rules')
    }
    return null
  }
  return Object.freeze({
    inline: opts.rules,
    rulesFile,
    siteRulesFile,
    watch,
    levels: opts.levels as string[] | undefined,
    levelAliases: opts.levelAliases as Record<string, string> | undefined,
    maxElevate: opts.maxElevate as string | undefined
  })
}
