import type { FastifyRequest, RouteOptions } from 'fastify'
import type { Requirement } from '../decision/decide.js'
import { requiresStepUp } from '../decision/step-up.js'
import { codes } from '../errors.js'
import type { EnforcementOptions, PolicyOptions, StepUpPolicy } from '../options/index.js'

export const kRoute = Symbol('fastify-default-deny.route')

export type IdSource =
  | { kind: 'param', name: string }
  | { kind: 'function', extract: (request: FastifyRequest) => unknown }
  | { kind: 'type' }

export interface CompiledRoute {
  requirement: Requirement
  /** Present for resource requirements only. */
  id: IdSource | null
  /** Whether the route's privilege needs a second factor (the `stepUp` option), worked out at registration. */
  stepUp: boolean
}

const UNANNOTATED = Object.freeze<CompiledRoute>({ requirement: { kind: 'unannotated' }, id: null, stepUp: false })
const PUBLIC = Object.freeze<CompiledRoute>({ requirement: { kind: 'public' }, id: null, stepUp: false })
const AUTHENTICATED = Object.freeze<CompiledRoute>({ requirement: { kind: 'authenticated' }, id: null, stepUp: false })
const ANNOTATION_KEYS = new Set(['resource', 'privilege', 'param', 'id'])

function routeParams (url: string): Set<string> {
  const names = new Set<string>()
  for (const match of url.matchAll(/:([A-Za-z0-9_]+)/g)) names.add(match[1] as string)
  return names
}

/**
 * Validates `config.permission` once, when the route is registered. A bad
 * annotation stops the server from starting rather than failing open later.
 */
export function compileRoute (route: Pick<RouteOptions, 'url' | 'method' | 'config'>, settings: Pick<EnforcementOptions, 'maxIdLength'> & Pick<PolicyOptions, 'privileges'> & { readonly policy: PolicyOptions, readonly stepUp: StepUpPolicy | null }): CompiledRoute {
  const name = `${String(route.method)} ${route.url}`
  const fail = (message: string): never => {
    throw new codes.FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG(name, message)
  }
  const annotation = (route.config as { permission?: unknown } | undefined)?.permission
  if (annotation === undefined) return UNANNOTATED
  if (annotation === 'public') return PUBLIC
  if (annotation === 'authenticated') return AUTHENTICATED
  if (typeof annotation !== 'object' || annotation === null || Array.isArray(annotation)) {
    return fail("permission must be 'public', 'authenticated' or { resource, privilege }")
  }
  const fields = annotation as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (!ANNOTATION_KEYS.has(key)) fail(`unknown permission key '${key}'`)
  }
  const { resource, privilege, param, id } = fields
  if (typeof resource !== 'string' || resource.length === 0 || resource.length > settings.maxIdLength) {
    fail('permission.resource must be a non-empty string')
  }
  if (typeof privilege !== 'string' || !settings.privileges.has(privilege)) {
    fail(`permission.privilege must be one of: ${[...settings.privileges].join(', ')}`)
  }
  const requirement: Requirement = { kind: 'resource', resource: resource as string, privilege: privilege as string }
  const stepUp = requiresStepUp(settings.stepUp, privilege as string)

  if (id !== undefined && param !== undefined) fail('permission.param and permission.id are exclusive')
  if (id === false) return Object.freeze<CompiledRoute>({ requirement, id: { kind: 'type' }, stepUp })
  if (typeof id === 'function') {
    return Object.freeze<CompiledRoute>({ requirement, id: { kind: 'function', extract: id as (request: FastifyRequest) => unknown }, stepUp })
  }
  if (id !== undefined) fail('permission.id must be false or a function')
  const paramName = param === undefined ? 'id' : param
  if (typeof paramName !== 'string' || paramName.length === 0) fail('permission.param must be a non-empty string')
  // Catching a missing parameter here beats denying every request at run time.
  if (!routeParams(route.url).has(paramName as string)) {
    fail(`the route has no ':${String(paramName)}' parameter (set permission.param, permission.id, or id: false for a type-level check)`)
  }
  return Object.freeze<CompiledRoute>({ requirement, id: { kind: 'param', name: paramName as string }, stepUp })
}

export function compiledRouteOf (config: unknown): CompiledRoute | undefined {
  return (config as Record<symbol, CompiledRoute | undefined> | undefined)?.[kRoute]
}
