// The grant API's shared schemas, registered with `addSchema` in the API's
// own scope and referenced by `$ref`: validation and serialization use them
// as they would inline copies, and an OpenAPI generator emits each once, as a
// component a client generator can name. The prefix keeps the ids clear of a
// host's own; the scope keeps them invisible to the host's routes.
import { MAX_REASON_LENGTH } from '../decision/ids.js'
import type { EnforcementOptions, PolicyOptions } from '../options/index.js'

export const SCHEMA_PREFIX = 'fastify-default-deny.'

export type SharedName =
  | 'Error' | 'Id' | 'Privilege' | 'Reason' | 'GranteeInput' | 'Grantee' | 'Grant' | 'GrantList'
  | 'Change' | 'ChangeList' | 'OwnerChange' | 'Explanation' | 'AuditEntry' | 'AuditPage'
  | 'AuditVerification' | 'Member' | 'MemberList' | 'MemberChange' | 'ScheduledPrivileges'

/** A reference to a shared schema, with an optional description (an OpenAPI response's). */
export function ref (name: SharedName, description?: string): { $ref: string, description?: string } {
  const target = { $ref: `${SCHEMA_PREFIX}${name}#` }
  return description === undefined ? target : { description, ...target }
}

const strings = { type: 'array', items: { type: 'string' } } as const
const nullableString = { type: ['string', 'null'] } as const
const instant = { type: ['string', 'null'], format: 'date-time' } as const

// Response schemas also drive serialization: no `required` (a missing field
// would throw instead of being left out) and no constraint the serializer
// would enforce differently from what the handlers return.
export function buildSharedSchemas (settings: Pick<EnforcementOptions, 'maxIdLength'> & Pick<PolicyOptions, 'privileges'>): Array<Record<string, unknown> & { $id: string }> {
  const schemas: Record<SharedName, Record<string, unknown>> = {
    Error: {
      type: 'object',
      description: 'The body of every refusal. A refusal of the client\'s own input (400) says what to fix: `message` names the field and the rule, `field` and `in` say where the value was. Any other refusal is generic on purpose: the details go to the server log',
      properties: {
        statusCode: { type: 'integer', description: 'the HTTP status' },
        code: { type: 'string', description: 'a stable code, such as FST_DEFAULT_DENY_FORBIDDEN' },
        error: { type: 'string', description: 'the status text' },
        message: { type: 'string', description: 'for a 400, the field and the rule, e.g. privilege must be one of read, edit, delete, manage (got "wirte")' },
        field: { type: 'string', description: 'for a 400, a JSON pointer to the refused value within its part of the request, e.g. /grants/3/expiresAt' },
        in: { type: 'string', enum: ['body', 'path', 'query', 'header'], description: 'for a 400, the part of the request the field is in' }
      }
    },
    Id: { type: 'string', minLength: 1, maxLength: settings.maxIdLength, description: 'a resource type, resource id, user, group or principal id' },
    Privilege: { type: 'string', enum: [...settings.privileges], description: 'one of the configured privileges' },
    Reason: { type: 'string', maxLength: MAX_REASON_LENGTH, description: 'why, recorded in the audit trail' },
    GranteeInput: {
      description: 'who receives or loses a privilege: a user, a group, or the anonymous principal',
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'id'],
          properties: { kind: { type: 'string', enum: ['user', 'group'] }, id: ref('Id') }
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind'],
          properties: { kind: { type: 'string', const: 'anonymous' } }
        }
      ]
    },
    Grantee: {
      type: 'object',
      description: 'a user or group (with its id) or the anonymous principal',
      properties: { kind: { type: 'string', enum: ['user', 'group', 'anonymous'] }, id: { type: 'string' } }
    },
    Grant: {
      type: 'object',
      properties: {
        grantee: ref('Grantee'),
        privilege: { type: 'string' },
        source: { type: 'string', enum: ['explicit', 'type', 'owner'], description: 'a grant on this resource, on its whole type, or ownership' },
        grantedBy: nullableString,
        grantedAt: instant,
        expiresAt: instant,
        startsAt: instant
      }
    },
    GrantList: {
      type: 'object',
      description: 'the unexpired grants on a resource, scheduled ones included',
      properties: { resource: { type: 'string' }, id: { type: 'string' }, owner: nullableString, grants: { type: 'array', items: ref('Grant') } }
    },
    ScheduledPrivileges: {
      type: 'object',
      description: 'grants with their schedules, before and after: each counts from `startsAt` (null: from its grant) until `expiresAt` (null: for good)',
      properties: {
        before: { type: 'array', items: { type: 'object', properties: { privilege: { type: 'string' }, startsAt: instant, expiresAt: instant } } },
        after: { type: 'array', items: { type: 'object', properties: { privilege: { type: 'string' }, startsAt: instant, expiresAt: instant } } }
      }
    },
    Change: {
      type: 'object',
      description: "a grantee's explicit privileges on the resource before and after the change; `changed` lists those added, taken or rescheduled (empty: nothing changed, nothing audited)",
      properties: { grantee: ref('Grantee'), before: strings, after: strings, changed: strings, schedule: ref('ScheduledPrivileges') }
    },
    ChangeList: {
      type: 'object',
      description: 'the grantees whose privileges changed',
      properties: { changes: { type: 'array', items: ref('Change') } }
    },
    OwnerChange: {
      type: 'object',
      description: 'the owner now and before',
      properties: { owner: nullableString, before: nullableString }
    },
    Explanation: {
      type: 'object',
      description: 'what the principal can do on the resource and why; with a privilege asked for, the decision and what is missing',
      properties: {
        principal: { type: 'object', properties: { kind: { type: 'string' }, id: nullableString, groups: strings } },
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
                    grantee: ref('Grantee'),
                    privilege: { type: 'string' },
                    typeLevel: { type: 'boolean' },
                    via: strings
                  }
                }
              }
            }
          }
        }
      }
    },
    AuditEntry: {
      type: 'object',
      description: 'one audited change, chained to its predecessor by hash',
      properties: {
        seq: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
        actor: nullableString,
        action: { type: 'string' },
        grantee: { anyOf: [ref('Grantee'), { type: 'null' }] },
        resource: { type: 'string' },
        id: nullableString,
        before: strings,
        after: strings,
        schedule: { anyOf: [ref('ScheduledPrivileges'), { type: 'null' }] },
        requestId: nullableString,
        reason: nullableString,
        hash: { type: 'string' }
      }
    },
    AuditPage: {
      type: 'object',
      description: 'audit entries, newest first; `next` is the `before` of the next page, or null',
      properties: { entries: { type: 'array', items: ref('AuditEntry') }, next: nullableString }
    },
    AuditVerification: {
      type: 'object',
      description: 'the audit chain recomputed: every entry that does not fit',
      properties: {
        ok: { type: 'boolean' },
        entries: { type: 'integer' },
        brokenAt: nullableString,
        broken: {
          type: 'array',
          items: { type: 'object', properties: { seq: { type: 'string' }, problem: { type: 'string', enum: ['hash', 'link'] } } }
        },
        brokenCount: { type: 'integer' }
      }
    },
    Member: {
      type: 'object',
      properties: { kind: { type: 'string', enum: ['user', 'group'] }, id: { type: 'string' }, addedBy: nullableString, addedAt: { type: 'string', format: 'date-time' } }
    },
    MemberList: {
      type: 'object',
      description: "a stored group's direct members",
      properties: { group: { type: 'string' }, members: { type: 'array', items: ref('Member') } }
    },
    MemberChange: {
      type: 'object',
      description: "the membership before and after: ['member'] while it is one",
      properties: { group: { type: 'string' }, member: ref('Grantee'), before: strings, after: strings }
    }
  }
  return Object.entries(schemas).map(([name, schema]) => ({ $id: `${SCHEMA_PREFIX}${name}`, ...schema }))
}
