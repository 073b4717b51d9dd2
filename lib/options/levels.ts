// Access levels: which claim names the level a request acts at, and what a
// request at a capped level may still do.
import type { PolicyOptions } from './policy.js'
import { claimOption, invalid, nameList } from './values.js'

export const DEFAULT_LEVEL_CLAIM = 'level'
/** What a request acting at a level may still do: a demoted reader only reads. */
export const DEFAULT_LEVEL_PRIVILEGES: Readonly<Record<string, readonly string[]>> = Object.freeze({ reader: ['read'] })

export interface LevelOptions {
  readonly levelClaim: string
  /** For each level with a cap, the privileges a request at that level may exercise. */
  readonly levelPrivileges: ReadonlyMap<string, ReadonlySet<string>>
}

function levelPrivilegesOption (opts: Record<string, unknown>, known: ReadonlySet<string>): Map<string, ReadonlySet<string>> {
  const levelPrivileges = new Map<string, ReadonlySet<string>>()
  const rawCaps = opts.levelPrivileges === undefined ? DEFAULT_LEVEL_PRIVILEGES : opts.levelPrivileges
  if (typeof rawCaps !== 'object' || rawCaps === null || Array.isArray(rawCaps)) invalid('levelPrivileges', 'must be an object')
  for (const [level, allowed] of Object.entries(rawCaps as Record<string, unknown>)) {
    const names = nameList(`levelPrivileges.${level}`, allowed, true)
    for (const privilege of names) {
      if (!known.has(privilege)) invalid(`levelPrivileges.${level}`, `names unknown privilege '${privilege}'`)
    }
    levelPrivileges.set(level, new Set(names))
  }
  return levelPrivileges
}

export function levelOptions (opts: Record<string, unknown>, policy: PolicyOptions): LevelOptions {
  const levelPrivileges = levelPrivilegesOption(opts, policy.privileges)
  return Object.freeze({ levelClaim: claimOption(opts, 'levelClaim', DEFAULT_LEVEL_CLAIM), levelPrivileges })
}
