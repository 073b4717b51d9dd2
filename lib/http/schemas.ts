// JSON schemas of the grant-management API. Strict on purpose: the validator
// of this scope does not coerce types, and no object takes extra properties.
import { MAX_REASON_LENGTH } from '../decision/ids.js'
import type { Settings } from '../options.js'

const error = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' }
  }
} as const

export const errorResponses = Object.fromEntries([400, 401, 403, 404, 409, 413, 415, 422, 503].map((status) => [status, error]))

/** The `?reason=` of a change without a body, recorded in the audit trail. */
export const reasonQuery = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: MAX_REASON_LENGTH } } }

export function buildSchemas (settings: Pick<Settings, 'maxIdLength' | 'privileges'>) {
  const id = { type: 'string', minLength: 1, maxLength: settings.maxIdLength }
  const privilege = { type: 'string', enum: [...settings.privileges] }
  const reason = { type: 'string', maxLength: MAX_REASON_LENGTH }
  const expiresAt = { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 instant in the future' }
  const startsAt = { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 instant before expiresAt' }
  const grantee = {
    oneOf: [
      {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'id'],
        properties: { kind: { type: 'string', enum: ['user', 'group'] }, id }
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: { kind: { type: 'string', const: 'anonymous' } }
      }
    ]
  }
  const granteeOut = {
    type: 'object',
    properties: { kind: { type: 'string' }, id: { type: 'string' } }
  }
  const resourceParams = {
    type: 'object',
    required: ['resource', 'id'],
    properties: { resource: id, id }
  }
  const granteeParams = {
    type: 'object',
    required: ['resource', 'id', 'kind', 'principal'],
    properties: { resource: id, id, kind: { type: 'string', enum: ['user', 'group'] }, principal: id }
  }
  const grantOut = {
    type: 'object',
    properties: {
      grantee: granteeOut,
      privilege: { type: 'string' },
      source: { type: 'string', enum: ['explicit', 'type', 'owner'] },
      grantedBy: { type: ['string', 'null'] },
      grantedAt: { type: ['string', 'null'], format: 'date-time' },
      expiresAt: { type: ['string', 'null'], format: 'date-time' },
      startsAt: { type: ['string', 'null'], format: 'date-time' }
    }
  }
  const change = {
    type: 'object',
    properties: {
      grantee: granteeOut,
      before: { type: 'array', items: { type: 'string' } },
      after: { type: 'array', items: { type: 'string' } }
    }
  }
  const auditEntry = {
    type: 'object',
    properties: {
      seq: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      actor: { type: ['string', 'null'] },
      action: { type: 'string' },
      grantee: { anyOf: [granteeOut, { type: 'null' }] },
      resource: { type: 'string' },
      id: { type: ['string', 'null'] },
      before: { type: 'array', items: { type: 'string' } },
      after: { type: 'array', items: { type: 'string' } },
      requestId: { type: ['string', 'null'] },
      reason: { type: ['string', 'null'] },
      hash: { type: 'string' }
    }
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
        limit: { type: 'string', pattern: '^(100|[1-9][0-9]?)$' },
        before: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' },
        kind: { type: 'string', enum: ['user', 'group', 'anonymous'] },
        principal: id
      }
    },
    listResponse: {
      type: 'object',
      properties: {
        resource: { type: 'string' },
        id: { type: 'string' },
        owner: { type: ['string', 'null'] },
        grants: { type: 'array', items: grantOut }
      }
    },
    changeResponse: change,
    changesResponse: { type: 'object', properties: { changes: { type: 'array', items: change } } },
    ownerResponse: {
      type: 'object',
      properties: { owner: { type: ['string', 'null'] }, before: { type: ['string', 'null'] } }
    },
    explainResponse: {
      type: 'object',
      properties: {
        principal: { type: 'object', properties: { kind: { type: 'string' }, id: { type: ['string', 'null'] }, groups: { type: 'array', items: { type: 'string' } } } },
        decision: { type: 'string' },
        summary: { type: 'string' },
        stepUp: {
          type: 'object',
          properties: { privilege: { type: 'string' }, satisfied: { type: ['boolean', 'null'] }, missing: { type: 'string', enum: ['factor', 'max_age'] } }
        },
        privileges: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              privilege: { type: 'string' },
              stepUp: { type: 'boolean' },
              via: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    source: { type: 'string' },
                    grantee: granteeOut,
                    privilege: { type: 'string' },
                    typeLevel: { type: 'boolean' },
                    via: { type: 'array', items: { type: 'string' } }
                  }
                }
              }
            }
          }
        }
      }
    },
    groupParams: { type: 'object', required: ['group'], properties: { group: id } },
    memberParams: {
      type: 'object',
      required: ['group', 'kind', 'member'],
      properties: { group: id, kind: { type: 'string', enum: ['user', 'group'] }, member: id }
    },
    membersResponse: {
      type: 'object',
      properties: {
        group: { type: 'string' },
        members: {
          type: 'array',
          items: {
            type: 'object',
            properties: { kind: { type: 'string' }, id: { type: 'string' }, addedBy: { type: ['string', 'null'] }, addedAt: { type: 'string', format: 'date-time' } }
          }
        }
      }
    },
    memberChangeResponse: {
      type: 'object',
      properties: { group: { type: 'string' }, member: granteeOut, before: { type: 'array', items: { type: 'string' } }, after: { type: 'array', items: { type: 'string' } } }
    },
    auditResponse: {
      type: 'object',
      properties: { entries: { type: 'array', items: auditEntry }, next: { type: ['string', 'null'] } }
    },
    verifyResponse: {
      type: 'object',
      properties: {
        ok: { type: 'boolean' },
        entries: { type: 'integer' },
        brokenAt: { type: ['string', 'null'] },
        broken: {
          type: 'array',
          items: { type: 'object', properties: { seq: { type: 'string' }, problem: { type: 'string', enum: ['hash', 'link'] } } }
        },
        brokenCount: { type: 'integer' }
      }
    }
  }
}
export type Schemas = ReturnType<typeof buildSchemas>
