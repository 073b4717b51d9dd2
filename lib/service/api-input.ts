// What the service API reads of its callers' input before a use case sees
// it, and its refusal (FST_DEFAULT_DENY_INVALID_GRANT with the field).
import { isExpression, sql, type Expression } from 'kysely'
import { codes, invalidInput } from '../errors.js'
import type { Validators } from './validation.js'

/** The service API's refusal of its input; `field` is a JSON pointer into the call's input (`error.field`). */
export const invalidGrant = (message: string, field?: string): never => {
  throw invalidInput(new codes.FST_DEFAULT_DENY_INVALID_GRANT(message), { field })
}

/** The id column of a host's query a filter compares: a column name or a Kysely expression. */
export function idColumn (id: unknown): Expression<unknown> {
  if (typeof id === 'string' && id.length > 0) return sql.ref(id)
  return isExpression(id) ? id : invalidGrant('id must be a column name or a Kysely expression', '')
}

/** Where a keyset page starts: after this id ('' : from the first). */
export function pageAfter (check: Validators, after: unknown = ''): string {
  if (after !== '' && !check.id(after)) invalidGrant('after must be an id (the last of the previous page)', '/after')
  return after as string
}

/** The resource type and privilege of a question about many resources. */
export function typeTarget (check: Validators, target: unknown): { resource: string, privilege: string } {
  if (typeof target !== 'object' || target === null) return invalidGrant('the target must be an object', '')
  const { resource, privilege } = target as Record<string, unknown>
  const { resource: type } = check.target({ resource, id: null })
  check.knownType(type)
  return { resource: type, privilege: check.privilege(privilege) }
}
