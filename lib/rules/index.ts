export { compileRules } from './compile.js'
export { RulesConfigError } from './errors.js'
export { effectiveLevel, evaluateRules, requiresBody } from './evaluate.js'
export { DEFAULT_LEVEL_ALIASES, DEFAULT_LEVELS, DEFAULT_MAX_ELEVATE } from './levels.js'
export { loadRulesFiles, type RulesFiles } from './load.js'
export { normalizeRequestPath } from './path.js'
export { MAX_MATCH_INPUT } from './pattern.js'
export type {
  BlockRuleSource,
  CertRuleSource,
  CompiledRules,
  CompileOptions,
  GroupSource,
  IsUserRuleSource,
  OpenRuleSource,
  RequestFacts,
  RuleFlag,
  RuleModifiers,
  RuleSource,
  RulesOutcome,
  RulesSettings,
  RulesSource,
  TokenRuleSource,
  UserLevelRuleSource,
  WhitelistRuleSource
} from './types.js'
