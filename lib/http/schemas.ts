// JSON schemas of the grant-management API's requests. Strict on purpose: the
// validator of this scope does not coerce types, and no object takes extra
// properties. The parts they share are `$ref`s to shared-schemas.ts.
import { ref } from './shared-schemas.js'

// Fresh objects for each scope, as Fastify marks the schemas it has compiled.
export function buildSchemas () {
  const id = ref('Id')
  const privilege = ref('Privilege')
  const reason = ref('Reason')
  const grantee = ref('GranteeInput')
  const granteeKind = { type: 'string', enum: ['user', 'group'] }
  const expiresAt = { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 instant in the future' }
  const startsAt = { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 instant before expiresAt' }

  /** The `?reason=` of a change without a body, recorded in the audit trail. */
  const reasonQuery = { type: 'object', additionalProperties: false, properties: { reason } }

  const resourceParams = {
    type: 'object',
    required: ['resource', 'id'],
    properties: { resource: id, id }
  }
  const granteeParams = {
    type: 'object',
    required: ['resource', 'id', 'kind', 'principal'],
    properties: { resource: id, id, kind: granteeKind, principal: id }
  }
  const grantItem = {
    type: 'object',
    additionalProperties: false,
    required: ['grantee', 'privilege'],
    properties: { grantee, privilege, expiresAt, startsAt }
  }
  const bulkItem = {
    type: 'object',
    additionalProperties: false,
    required: ['resource', 'id', 'grantee', 'privilege'],
    properties: { resource: id, id, grantee, privilege, expiresAt, startsAt }
  }

  return {
    reasonQuery,
    resourceParams,
    granteeParams,
    anonymousParams: resourceParams,
    revokeParams: {
      type: 'object',
      required: ['resource', 'id', 'kind', 'principal', 'privilege'],
      properties: { ...granteeParams.properties, privilege }
    },
    revokeAnonymousParams: {
      type: 'object',
      required: ['resource', 'id', 'privilege'],
      properties: { resource: id, id, privilege }
    },
    addBody: {
      type: 'object',
      additionalProperties: false,
      required: ['grantee', 'privilege'],
      properties: { grantee, privilege, expiresAt, startsAt, reason }
    },
    replaceAllBody: {
      type: 'object',
      additionalProperties: false,
      required: ['grants'],
      properties: { grants: { type: 'array', maxItems: 1000, items: grantItem }, reason }
    },
    replaceOneBody: {
      type: 'object',
      additionalProperties: false,
      required: ['privileges'],
      properties: { privileges: { type: 'array', maxItems: 64, uniqueItems: true, items: privilege }, expiresAt, startsAt, reason }
    },
    ownerBody: {
      type: 'object',
      additionalProperties: false,
      required: ['owner'],
      properties: { owner: { anyOf: [id, { type: 'null' }] }, reason }
    },
    bulkBody: {
      type: 'object',
      additionalProperties: false,
      properties: {
        grant: { type: 'array', maxItems: 1000, items: bulkItem },
        revoke: { type: 'array', maxItems: 1000, items: { ...bulkItem, properties: { resource: id, id, grantee, privilege } } },
        reason
      }
    },
    explainQuery: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { type: 'string', enum: ['user', 'anonymous'] },
        principal: id,
        groups: { anyOf: [id, { type: 'array', maxItems: 100, items: id }] },
        privilege
      }
    },
    auditQuery: {
      type: 'object',
      additionalProperties: false,
      properties: {
        limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$', description: 'entries per page, 1 to 100 (default 50)' },
        before: { type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'the `next` of the previous page' },
        kind: { type: 'string', enum: ['user', 'group', 'anonymous'] },
        principal: id
      }
    },
    groupParams: { type: 'object', required: ['group'], properties: { group: id } },
    memberParams: {
      type: 'object',
      required: ['group', 'kind', 'member'],
      properties: { group: id, kind: granteeKind, member: id }
    }
  } as const
}
export type Schemas = ReturnType<typeof buildSchemas>
