import { BoundedCache } from './bounded-cache.js'
import type { CompiledPathKey, Matching } from './types.js'

const MATCHING_CACHE_MAX = 1024
const MATCHING_CACHE_PATH_MAX = 256

/**
 * Finds the keys of one compiled rule set that match a path. The answer
 * depends only on the rules and the path, so recent paths are remembered.
 */
export class KeyMatcher {
  readonly #keys: readonly CompiledPathKey[]
  readonly #recent = new BoundedCache<Matching>(MATCHING_CACHE_MAX)

  /** `keys` in evaluation order. */
  constructor (keys: readonly CompiledPathKey[]) {
    this.#keys = keys
  }

  match (path: string): Matching {
    const known = this.#recent.get(path)
    if (known !== undefined) return known
    const keys = this.#keys.filter(entry => keyMatches(entry, path))
    const matching: Matching = Object.freeze({ keys: Object.freeze(keys), hasParams: keys.some(entry => entry.group.hasParams) })
    if (path.length <= MATCHING_CACHE_PATH_MAX) this.#recent.set(path, matching)
    return matching
  }
}

function keyMatches (entry: CompiledPathKey, path: string): boolean {
  if (!entry.folder) return path === entry.path
  // A folder key also covers the bare folder (`admin/` matches `/admin`).
  return entry.path === '' || path === entry.path || (path.startsWith(entry.path) && path[entry.path.length] === '/')
}
