// Every route of the instance and what it requires. The plugin sees the
// routes registered after it through onRoute; the ones registered before it
// exist only in the router, which Fastify lists solely as printed text.
import type { FastifyInstance } from 'fastify'
import type { RouteManifestEntry } from '../../fastify-plugin.js'
import { compiledRouteOf, type CompiledRoute } from '../http/route-config.js'

function entryOf (method: string, url: string, compiled: CompiledRoute | undefined, grantApi: boolean): RouteManifestEntry {
  if (compiled === undefined) return { method, url, access: 'before-plugin', grantApi }
  const { requirement, id } = compiled
  if (requirement.kind !== 'resource') return { method, url, access: requirement.kind, grantApi }
  const idFrom = id === null || id.kind === 'type' ? 'type' : id.kind === 'function' ? 'function' : { param: id.name }
  return { method, url, access: 'resource', resource: requirement.resource, privilege: requirement.privilege, idFrom, grantApi }
}

// printRoutes() prints one line per node of the
// router's tree: its indentation is its depth, its text the path since its
// parent, then the methods (and constraints) of each route ending there; a
// node with routes of different constraints prints one more line each.
const BRANCH = /^((?:[│ ] {3})*)(?:├── |└── )(.*)$/
const INDENT = /^(?:[│ ] {3})*/
const ROUTE = /^(.*?) ?\(([A-Z-]+(?:, [A-Z-]+)*)\)(?: \{.*\})?$/

/** The (method, url) of every route in the router, read from the printed tree. */
export function routesInRouter (printed: string): Array<{ method: string, url: string }> {
  const routes: Array<{ method: string, url: string }> = []
  const path: string[] = []
  for (const line of printed.split('\n')) {
    const branch = BRANCH.exec(line)
    const text = branch === null ? line.replace(INDENT, '') : branch[2] as string
    const route = ROUTE.exec(text)
    if (branch !== null) {
      path.length = (branch[1] as string).length / 4
      const key = route === null ? text : route[1] as string
      path.push(key === '(empty root node)' ? '' : key)
    }
    if (route === null || path.length === 0) continue
    for (const method of (route[2] as string).split(', ')) routes.push({ method, url: path.join('') })
  }
  return routes
}

/**
 * A url as the router's tree shows it: parameters as `:` (the tree prints
 * the names of every route sharing a parameter), no repeated or trailing
 * slash, lower case for a case-insensitive router.
 */
function shapeOf (url: string, caseSensitive: boolean): string {
  const shape = url.replace(/\/{2,}/g, '/').replace(/:[^/]*/g, ':').replace(/(.)\/$/, '$1')
  return caseSensitive ? shape : shape.toLowerCase()
}

const keyOf = (method: string, url: string, caseSensitive: boolean) => `${method} ${shapeOf(url, caseSensitive)}`

interface Recorded {
  readonly method: string
  readonly url: string
  /** The route's options: its compiled annotation is read from them later, whichever onRoute hook runs first. */
  readonly route: { readonly config?: unknown }
  readonly grantApi: boolean
}

/** What an onRoute hook is given, as far as the manifest reads it. */
export interface RouteSeen {
  readonly method: string | readonly string[]
  readonly url: string
  readonly config?: unknown
  readonly prefix: string
}

export class RouteManifest {
  readonly #recorded: Recorded[] = []
  readonly #grantPrefix: string | null

  /** `grantPrefix`: the prefix the grant routes are registered with, or `null` without them. */
  constructor (grantPrefix: string | null) {
    this.#grantPrefix = grantPrefix
  }

  /** From an onRoute hook; `pluginPrefix` is the prefix of the instance the plugin is registered on. */
  record (route: RouteSeen, pluginPrefix: string): void {
    const grantApi = this.#grantPrefix !== null && route.prefix === pluginPrefix + this.#grantPrefix
    // Fastify reuses the options object for a prefixed route's second url: keep this one.
    for (const method of [route.method].flat()) this.#recorded.push({ method, url: route.url, route, grantApi })
  }

  /**
   * Every route, sorted by url and method: those the plugin saw, and those
   * only the router knows (registered before the plugin).
   */
  entries (fastify: FastifyInstance): RouteManifestEntry[] {
    const initial = fastify.initialConfig as { caseSensitive?: boolean, routerOptions?: { caseSensitive?: boolean } }
    const caseSensitive = (initial.routerOptions?.caseSensitive ?? initial.caseSensitive) !== false
    const all = this.#recorded.map(({ method, url, route, grantApi }) => entryOf(method, url, compiledRouteOf(route.config), grantApi))
    const seen = new Set(this.#recorded.map(({ method, url }) => keyOf(method, url, caseSensitive)))
    for (const { method, url } of routesInRouter(fastify.printRoutes())) {
      const key = keyOf(method, url, caseSensitive)
      // `/prefix` and `/prefix/` are two router entries of one route.
      if (seen.has(key)) continue
      seen.add(key)
      all.push(entryOf(method, url, undefined, false))
    }
    return all.sort((a, b) => a.url < b.url ? -1 : a.url > b.url ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0)
  }
}
