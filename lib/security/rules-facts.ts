// What the compiled endpoint rules mean for the self-check. Pure: read from
// the rule set in force when the check runs.
import { normalizeRequestPath } from '../rules/path.js'
import type { CompiledRule, CompiledRules } from '../rules/types.js'
import type { RulesFacts } from './facts.js'

export function rulesFacts (compiled: CompiledRules): RulesFacts {
  const open = new Set<string>()
  for (const { group } of compiled.keys) {
    for (const alternative of group.alternatives) {
      for (const rule of alternative) {
        if (rule.type === 'whitelist' && !rule.deny && rule.matcher.cidrs.some(([, bits]) => bits === 0)) open.add(group.name)
      }
    }
  }
  return { diagnostics: compiled.settings.diagnostics, lockout: compiled.settings.lockout, openWhitelists: [...open].sort() }
}

// A rule that never passes over plain HTTP: `secure`, a token (HTTPS only),
// a client certificate (TLS only), or a block.
const needsTls = (rule: CompiledRule) => rule.secure || rule.type === 'token' || rule.type === 'cert' || rule.type === 'block'

/**
 * Whether the rules refuse every plain-HTTP request to the route `url`
 * (parameters and wildcards stand for any one segment). Keys are judged in
 * evaluation order; a group that some plain request could pass with a
 * terminal rule ends the search, since less specific keys are then skipped.
 */
export function refusesPlainHttp (compiled: CompiledRules, url: string): boolean {
  const sample = url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x')
  const path = normalizeRequestPath(sample, compiled.caseSensitive, compiled.hasReservedKey)
  if (path === null) return true
  for (const { group } of compiled.matcher.match(path).keys) {
    if (group.alternatives.every((alternative) => alternative.some(needsTls))) return true
    if (group.alternatives.some((alternative) => alternative.some((rule) => rule.terminal))) return false
  }
  return false
}
