// JSON schemas of the grant-management API's requests, and from them the
// types of what a handler receives. Strict on purpose: the validator of this
// scope does not coerce types, and no object takes extra properties. The
// parts they share are `$ref`s to shared-schemas.ts.
import { Type, type Static } from 'typebox'
import { oneOf, refTo, type GranteeInput } from '../shapes/grant-api.js'

// Fresh objects for each scope, as Fastify marks the schemas it has compiled.
export function buildSchemas () {
  // Their bounds (an id's length, the privileges) are options: shared-schemas.ts.
  const id = refTo<string>('Id')
  const privilege = refTo<string>('Privilege')
  const reason = refTo<string>('Reason')
  // Checked by the handlers (`check.grantee`), which say what is wrong in the service's words.
  const grantee = refTo<GranteeInput>('GranteeInput')
  const granteeKind = oneOf(['user', 'group'])
  const expiresAt = Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 instant in the future' }))
  const startsAt = Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 instant before expiresAt' }))
  const optionalReason = Type.Optional(reason)
  const strict = { additionalProperties: false } as const

  /** The `?reason=` of a change without a body, recorded in the audit trail. */
  const reasonQuery = Type.Object({ reason: optionalReason }, strict)

  const resourceParams = Type.Object({ resource: id, id })
  const granteeParams = Type.Object({ resource: id, id, kind: granteeKind, principal: id })
  const grantItem = Type.Object({ grantee, privilege, expiresAt, startsAt }, strict)
  const bulkItem = Type.Object({ resource: id, id, grantee, privilege, expiresAt, startsAt }, strict)

  return {
    reasonQuery,
    resourceParams,
    granteeParams,
    anonymousParams: resourceParams,
    revokeParams: Type.Object({ resource: id, id, kind: granteeKind, principal: id, privilege }),
    revokeAnonymousParams: Type.Object({ resource: id, id, privilege }),
    addBody: Type.Object({ grantee, privilege, expiresAt, startsAt, reason: optionalReason }, strict),
    replaceAllBody: Type.Object({ grants: Type.Array(grantItem, { maxItems: 1000 }), reason: optionalReason }, strict),
    replaceOneBody: Type.Object({
      privileges: Type.Array(privilege, { maxItems: 64, uniqueItems: true }),
      expiresAt,
      startsAt,
      reason: optionalReason
    }, strict),
    ownerBody: Type.Object({ owner: Type.Union([id, Type.Null()]), reason: optionalReason }, strict),
    bulkBody: Type.Object({
      grant: Type.Optional(Type.Array(bulkItem, { maxItems: 1000 })),
      revoke: Type.Optional(Type.Array(Type.Object({ resource: id, id, grantee, privilege }, strict), { maxItems: 1000 })),
      reason: optionalReason
    }, strict),
    explainQuery: Type.Object({
      kind: oneOf(['user', 'anonymous']),
      principal: Type.Optional(id),
      groups: Type.Optional(Type.Union([id, Type.Array(id, { maxItems: 100 })])),
      privilege: Type.Optional(privilege)
    }, strict),
    auditQuery: Type.Object({
      limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'a whole number from 1 to 100: entries per page (default 50)' })),
      before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'the `next` of the previous page' })),
      kind: Type.Optional(oneOf(['user', 'group', 'anonymous'])),
      principal: Type.Optional(id)
    }, strict),
    parentBody: Type.Object({
      parent: Type.Union([Type.Object({ resource: id, id }, strict), Type.Null()]),
      reason: optionalReason
    }, strict),
    childrenQuery: Type.Object({
      after: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'the `next` of the previous page' })),
      limit: Type.Optional(Type.String({ pattern: '^(1000|[1-9][0-9]{0,2})$', description: 'a whole number from 1 to 1000: children per page (default 100)' }))
    }, strict),
    browseQuery: Type.Object({
      prefix: Type.Optional(Type.String({ maxLength: 256, description: 'only ids that start with it, compared byte-wise (%, _ and \\ are themselves)' })),
      after: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'the `next` of the previous page' })),
      limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'a whole number from 1 to 100: resources per page (default 25)' }))
    }, strict),
    accessQuery: Type.Object({
      kind: Type.Optional(oneOf(['user', 'group'])),
      principal: Type.Optional(id),
      groups: Type.Optional(Type.Union([id, Type.Array(id, { maxItems: 100 })])),
      privilege: Type.Optional(privilege),
      after: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'the `next` of the previous page' })),
      limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: 'a whole number from 1 to 100: resources per page (default 25)' }))
    }, strict),
    typeParams: Type.Object({ resource: id }),
    typeAddBody: Type.Object({ grantee, privilege, expiresAt, startsAt, reason: optionalReason }, strict),
    typeRevokeParams: Type.Object({ resource: id, privilege }),
    typeRevokeQuery: Type.Object({ kind: oneOf(['user', 'group', 'anonymous']), principal: Type.Optional(id), reason: optionalReason }, strict),
    groupParams: Type.Object({ group: id }),
    memberParams: Type.Object({ group: id, kind: granteeKind, member: id })
  }
}
export type Schemas = ReturnType<typeof buildSchemas>

/** What a route of the grant API receives, as its schema admits it. */
export type Received<K extends keyof Schemas> = Static<Schemas[K]>

/** One error of the validator (built with `verbose`, so it carries the value and the schemas). */
export interface SchemaError {
  instancePath: string
  schemaPath: string
  keyword: string
  params: Record<string, any>
  message?: string
  data?: unknown
  parentSchema?: { properties?: Record<string, unknown>, description?: string }
}

const PART: Record<string, 'body' | 'path' | 'query' | 'header'> = { body: 'body', params: 'path', querystring: 'query', headers: 'header' }
const KINDS = ['user', 'group', 'anonymous']
const article = (type: string) => /^[aeiou]/.test(type) ? `an ${type}` : type === 'null' ? 'null' : `a ${type}`

/**
 * A refusal of the schema validator as the service's own refusals read: the
 * field as a JSON pointer into its part of the request (body, path, query),
 * and a message naming it and the rule, with the accepted values where they
 * are few. Only what the client sent is echoed, quoted.
 */
export function schemaRefusal (errors: readonly SchemaError[], context: string | undefined, quote: (value: unknown) => string, name: (pointer: string) => string): { message: string, field: string, in: 'body' | 'path' | 'query' | 'header' } {
  const where = PART[context ?? 'body'] ?? 'body'
  const error = pick(errors)
  const say = (field: string, rule: string, ...sent: [unknown?]) => ({
    message: `${field === '' ? `the ${where}` : name(field)} ${rule}${sent.length === 0 ? '' : ` (got ${quote(sent[0])})`}`,
    field,
    in: where
  })
  if (error === undefined) return say('', 'is not valid')
  const at = error.instancePath
  const { params, data } = error
  switch (error.keyword) {
    case 'required': return say(`${at}/${String(params.missingProperty)}`, 'is required')
    case 'additionalProperties': {
      const allowed = Object.keys(error.parentSchema?.properties ?? {})
      return say(`${at}/${String(params.additionalProperty)}`, `is not a known property${allowed.length === 0 ? '' : ` (known: ${allowed.join(', ')})`}`)
    }
    case 'enum': return say(at, `must be one of ${(params.allowedValues as unknown[]).join(', ')}`, data)
    case 'const': return say(at, `must be ${String(params.allowedValue)}`, data)
    case 'type': return say(at, `must be ${String(params.type).split(',').map(article).join(' or ')}`, data)
    case 'minLength': return say(at, params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long`, data)
    case 'maxLength': return say(at, `must be at most ${String(params.limit)} characters long`, data)
    case 'maxItems': return say(at, `must have at most ${String(params.limit)} items`)
    case 'uniqueItems': return say(at, `must not repeat an item (items ${String(params.j)} and ${String(params.i)} are the same)`)
    case 'pattern': return say(at, `must be ${error.parentSchema?.description ?? `a string matching ${String(params.pattern)}`}`, data)
    case 'anyOf': return say(at, 'has none of the accepted forms', data)
    case 'oneOf': return say(at, 'has none of the accepted forms', data)
    default: return say(at, error.message ?? 'is not valid', data)
  }
}

/**
 * The error that says what to fix. A grantee is one of two object forms
 * (`oneOf`): its `kind` says which was meant, so that form's own error is
 * the one to report, or the kind itself when it is neither.
 */
function pick (errors: readonly SchemaError[]): SchemaError | undefined {
  const oneOf = errors.find((e) => e.keyword === 'oneOf')
  if (oneOf === undefined) return anyOfError(errors) ?? errors[0]
  const data = oneOf.data as Record<string, unknown> | null
  const at = oneOf.instancePath
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ...oneOf, keyword: 'type', params: { type: 'object' } }
  if (!('kind' in data)) return { ...oneOf, keyword: 'required', params: { missingProperty: 'kind' } }
  if (!KINDS.includes(data.kind as string)) {
    return { ...oneOf, instancePath: `${at}/kind`, keyword: 'enum', params: { allowedValues: KINDS }, data: data.kind }
  }
  // The validator lists the first form's errors, then the second's (whose
  // paths name it: the first's may be inside a shared schema), then oneOf.
  const second = (e: SchemaError) => e.schemaPath.includes('/oneOf/1/')
  const meant = data.kind === 'anonymous' ? second : (e: SchemaError) => !second(e)
  return errors.find((e) => e !== oneOf && e.keyword !== 'oneOf' && meant(e)) ?? oneOf
}

// A value that is one of several forms (an id or null): when it has none of
// their types, all of them are the rule; when it has one, that form's error.
function anyOfError (errors: readonly SchemaError[]): SchemaError | undefined {
  const anyOf = errors.find((e) => e.keyword === 'anyOf')
  if (anyOf === undefined) return undefined
  const inner = errors.filter((e) => e !== anyOf && e.instancePath.startsWith(anyOf.instancePath))
  if (inner.length > 0 && inner.every((e) => e.keyword === 'type' && e.instancePath === anyOf.instancePath)) {
    return { ...anyOf, keyword: 'type', params: { type: inner.map((e) => String(e.params.type)).join(',') } }
  }
  return inner.find((e) => e.keyword !== 'type') ?? anyOf
}
