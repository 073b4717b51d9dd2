// The grant API's shared schemas, registered with `addSchema` in the API's
// own scope and referenced by `$ref`: validation and serialization use them
// as they would inline copies, and an OpenAPI generator emits each once, as a
// component a client generator can name. The prefix keeps the ids clear of a
// host's own; the scope keeps them invisible to the host's routes.
import { MAX_REASON_LENGTH } from '../decision/ids.js'
import type { EnforcementOptions, PolicyOptions } from '../options/index.js'
import { ANSWERS, SCHEMA_PREFIX, type SharedName } from '../shapes/grant-api.js'

export { ref, SCHEMA_PREFIX, type SharedName } from '../shapes/grant-api.js'

// Response schemas also drive serialization: no `required` (a missing field
// would throw instead of being left out) and no constraint the serializer
// would enforce differently from what the handlers return. The shapes are in
// lib/shapes/grant-api.ts; here are those whose bounds are options.
export function buildSharedSchemas (settings: Pick<EnforcementOptions, 'maxIdLength'> & Pick<PolicyOptions, 'privileges'>): Array<Record<string, unknown> & { $id: string }> {
  const schemas: Record<SharedName, object> = {
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
    ...ANSWERS
  }
  // Fresh plain objects for each scope: Fastify and the validator may mark what they compile.
  return Object.entries(schemas).map(([name, schema]) => ({ $id: `${SCHEMA_PREFIX}${name}`, ...JSON.parse(JSON.stringify(schema)) as Record<string, unknown> }))
}
