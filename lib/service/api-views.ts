// The service API's reads across resources (`browse`, `access`): the grant
// routes' use cases, for host code and the CLI.
import type { Kysely } from 'kysely'
import type { DefaultDenyApi, Principal, ServiceCallOptions } from '../../fastify-plugin.js'
import { groupPrincipal } from '../decision/principal.js'
import { invalidGrant } from './api-input.js'
import { SUPERUSER_VIEW, type GrantQueries } from './queries.js'
import type { Validators } from './validation.js'

/** `browse` and `access` pages: the grant API's bounds, since access explains every id it lists. */
export const DEFAULT_VIEW_PAGE = 25
export const MAX_VIEW_PAGE = 100

type ViewMethods = Pick<DefaultDenyApi, 'browse' | 'access'>

const db = (options?: ServiceCallOptions): Kysely<any> | undefined => options?.db

// Reads across resources. The service API trusts its caller, so it sees
// everything unless it names a viewer: then exactly what the grant API shows
// that viewer, decided by the same use case.
export function viewMethods (queries: GrantQueries, check: Validators, defaultPrivilege: string): ViewMethods {
  const viewerOf = (options: { viewer?: unknown } | undefined): Principal => {
    const viewer = options?.viewer
    if (viewer === undefined) return SUPERUSER_VIEW
    const { kind, id } = (typeof viewer === 'object' && viewer !== null ? viewer : {}) as Record<string, unknown>
    if (!(kind === 'user' && check.id(id)) && !(kind === 'anonymous' && id === null)) {
      invalidGrant('viewer must be a principal: { kind: "user", id, groups, superuser } or the anonymous principal', '/viewer')
    }
    return viewer as Principal
  }
  const page = (target: { after?: unknown, limit?: unknown }) => {
    const limit = target.limit ?? DEFAULT_VIEW_PAGE
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_VIEW_PAGE) invalidGrant(`limit must be an integer from 1 to ${MAX_VIEW_PAGE}`, '/limit')
    const after = target.after ?? null
    if (after !== null && !check.id(after)) invalidGrant('after must be the next of an earlier page', '/after')
    return { after: after as string | null, limit: limit as number }
  }
  const typeOf = (target: unknown): Record<string, unknown> & { resource: string } => {
    if (typeof target !== 'object' || target === null) return invalidGrant('the target must be an object { resource, … }', '')
    const { resource } = check.target({ resource: (target as Record<string, unknown>).resource, id: null })
    check.knownType(resource)
    return { ...(target as Record<string, unknown>), resource }
  }
  return {
    async browse (target, options) {
      const { resource, prefix = '' } = typeOf(target)
      if (prefix !== '' && !check.id(prefix)) invalidGrant('prefix must be text an id could start with: no NUL, malformed Unicode or leading byte order mark, no longer than an id', '/prefix')
      const { after, limit } = page(target)
      return await queries.browse(viewerOf(options), resource, prefix as string, after, limit, db(options))
    },
    async access (principal, target, options) {
      const { resource, privilege } = typeOf(target)
      const asked = privilege === undefined ? defaultPrivilege : check.privilege(privilege)
      const { after, limit } = page(target)
      const { kind, id } = (typeof principal === 'object' && principal !== null ? principal : {}) as Record<string, unknown>
      let subject: Principal
      if (kind === 'group') {
        if (!check.id(id)) invalidGrant('principal.id must be the group\'s id: a non-empty string without NUL or malformed Unicode', '/principal/id')
        subject = groupPrincipal(id as string)
      } else if ((kind === 'user' && check.id(id)) || (kind === 'anonymous' && id === null)) {
        subject = principal as Principal
      } else {
        return invalidGrant('principal must be a principal ({ kind: "user", id, groups, superuser } or anonymous) or a group { kind: "group", id }', '/principal')
      }
      const viewer = viewerOf(options)
      return { privilege: asked, ...await queries.access(viewer, subject, resource, asked, after ?? '', limit, kind === 'group', db(options)) }
    }
  }
}
