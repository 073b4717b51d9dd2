// The service API's reads of the resource tree (`getParent`, `ancestors`,
// `children`); setParent is a write beside setOwner in api.ts.
import type { DefaultDenyApi, ServiceCallOptions } from '../../fastify-plugin.js'
import type { Kysely } from 'kysely'
import type { Instance } from './grants.js'
import { fromChildCursor, type GrantQueries } from './queries.js'
import type { Fail, Validators } from './validation.js'

type TreeMethods = Pick<DefaultDenyApi, 'getParent' | 'ancestors' | 'children'>

const db = (options?: ServiceCallOptions): Kysely<any> | undefined => options?.db

export function treeMethods (queries: GrantQueries, check: Validators, invalidGrant: Fail): TreeMethods {
  // Reads: an unknown type or a malformed id simply has no tree, like getOwner.
  const ref = (input: unknown): Instance | null => {
    if (typeof input !== 'object' || input === null) return invalidGrant('the resource must be an object { resource, id }', '')
    const { resource, id } = input as Record<string, unknown>
    return check.id(resource) && check.id(id) ? { resource, id } : null
  }
  return {
    async getParent (child, options) {
      const at = ref(child)
      return at === null ? null : await queries.parent(at, db(options))
    },
    async ancestors (child, options) {
      const at = ref(child)
      return at === null ? [] : await queries.ancestors(at, db(options))
    },
    async children (parent, page = {}, options) {
      const limit = page.limit ?? 100
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) invalidGrant('limit must be an integer from 1 to 1000', '/limit')
      const cursor = page.after ?? null
      const after = cursor === null ? null : fromChildCursor(cursor)
      if (cursor !== null && after === null) invalidGrant('after must be the next of an earlier page', '/after')
      const at = ref(parent)
      return at === null ? { children: [], next: null } : await queries.children(at, after, limit, db(options))
    }
  }
}
