// The endpoint rules of one plugin instance: load and compile once, swap on
// reload, watch the files, report status, and read request paths the way
// the rules compare them.
import { unwatchFile, watchFile } from 'node:fs'
import type { DefaultDenyApi } from '../../fastify-plugin.js'
import { codes } from '../errors.js'
import { BoundedCache } from './bounded-cache.js'
import {
  compileRules, loadRulesFiles, normalizeRequestPath, RulesConfigError,
  type CompiledRules, type CompileOptions
} from './index.js'

export interface RulesConfig {
  /** Rules given inline; otherwise they are read from the files. */
  inline: unknown
  rulesFile: string | null
  siteRulesFile: string | null
}

export type RulesStatus = NonNullable<ReturnType<DefaultDenyApi['rulesStatus']>>

/** How often watched rules files are checked for changes. */
const WATCH_INTERVAL_MS = 250

export interface RulePath { readonly path: string | null, readonly trailingSlash: boolean }

// Normalising is pure; clients request the same paths again and again.
// Origin-form targets only, keyed on the part before the query string (all
// that normalizeRequestPath reads of them) and the two flags.
const RULE_PATHS_MAX = 1024
const RULE_PATH_CACHED_LENGTH = 256

function describe (err: unknown): string {
  return err instanceof RulesConfigError ? err.message : `rules: ${(err as Error).message}`
}

export class RulesLayer {
  readonly #config: RulesConfig
  readonly #options: CompileOptions
  #compiled: CompiledRules
  #status: RulesStatus
  #watched: Array<{ file: string, listener: () => void }> = []
  #timer: NodeJS.Timeout | undefined
  readonly #paths = new BoundedCache<RulePath>(RULE_PATHS_MAX)

  /** Throws FST_DEFAULT_DENY_INVALID_RULES: a bad rules file stops startup. */
  constructor (config: RulesConfig, options: CompileOptions) {
    this.#config = config
    this.#options = options
    try {
      this.#compiled = this.#load(config.inline)
    } catch (err) {
      throw new codes.FST_DEFAULT_DENY_INVALID_RULES(describe(err))
    }
    this.#status = { loadedAt: new Date(), lastError: null }
  }

  get compiled (): CompiledRules {
    return this.#compiled
  }

  get status (): RulesStatus {
    return { ...this.#status }
  }

  /** The request target `url` as the rules see it. */
  rulePath (url: string, caseSensitive: boolean, hasReservedKey = false): RulePath {
    const end = url.search(/[?#]/)
    const pathPart = end === -1 ? url : url.slice(0, end)
    const cacheable = pathPart.startsWith('/') && pathPart.length <= RULE_PATH_CACHED_LENGTH
    const key = `${caseSensitive ? 1 : 0}${hasReservedKey ? 1 : 0}${pathPart}`
    if (cacheable) {
      const known = this.#paths.get(key)
      if (known !== undefined) return known
    }
    const path = normalizeRequestPath(url, caseSensitive, hasReservedKey)
    const result = Object.freeze({ path, trailingSlash: pathPart.length > 1 && pathPart.endsWith('/') })
    if (cacheable) this.#paths.set(key, result)
    return result
  }

  #load (inline: unknown): CompiledRules {
    const source = inline !== undefined
      ? inline
      : loadRulesFiles({
        rulesFile: this.#config.rulesFile ?? undefined,
        siteRulesFile: this.#config.siteRulesFile ?? undefined
      })
    return compileRules(source, this.#options)
  }

  /**
   * Loads the rules again (from `source`, or else from the configured object
   * or files). On any problem the rules in force stay in force.
   */
  reload (source?: unknown): void {
    let next: CompiledRules
    try {
      next = this.#load(source ?? this.#config.inline)
    } catch (err) {
      this.#status = { ...this.#status, lastError: describe(err) }
      throw new codes.FST_DEFAULT_DENY_INVALID_RULES(describe(err))
    }
    // A single reference swap: a request sees either the old rules or the new.
    this.#compiled = next
    this.#status = { loadedAt: new Date(), lastError: null }
  }

  /** Reloads when a rules file changes; a broken file is logged and ignored. */
  watch (log: { info: (obj: object, msg: string) => void, error: (obj: object, msg: string) => void }): void {
    const files = [this.#config.rulesFile, this.#config.siteRulesFile].filter((file): file is string => file !== null)
    const onChange = () => {
      // Editors write in several steps; wait for them to settle.
      clearTimeout(this.#timer)
      const timer = this.#timer = setTimeout(() => {
        try {
          this.reload()
          log.info({}, 'fastify-default-deny: rules reloaded')
        } catch (err) {
          log.error({ reason: (err as Error).message }, 'fastify-default-deny: rules reload refused; previous rules stay in force')
        }
      }, 50)
      timer.unref()
    }
    // Stat polling follows the path, not the inode: fs.watch() on the file
    // stops seeing changes once an editor saves by renaming a new file over
    // it, and cannot see a site file that appears later. Both are seen here.
    for (const file of files) {
      const listener = () => onChange()
      watchFile(file, { persistent: false, interval: WATCH_INTERVAL_MS }, listener)
      this.#watched.push({ file, listener })
    }
  }

  close (): void {
    for (const { file, listener } of this.#watched) unwatchFile(file, listener)
    this.#watched = []
    clearTimeout(this.#timer)
  }
}
