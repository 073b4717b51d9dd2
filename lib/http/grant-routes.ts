// The grant-management HTTP API, in its own encapsulated scope: a strict
// validator, one error handler that never lets a client's input become a 500
// or 503, and the reading and changing routes. Every route needs a verified
// user; who may do what is decided by the grant use cases.
import { STATUS_CODES } from 'node:http'
import { Ajv } from 'ajv'
import type { FastifyPluginAsync } from 'fastify'
import { codes } from '../errors.js'
import { grantChangeRoutes, grantSetRoutes } from './grant-change-routes.js'
import { requestInput, type GrantRoutesDeps } from './grant-input.js'
import { grantReadRoutes } from './grant-read-routes.js'
import { memberRoutes } from './member-routes.js'
import { buildSchemas } from './schemas.js'

export const grantRoutes: FastifyPluginAsync<GrantRoutesDeps> = async (app, deps) => {
  // No coercion: `["read"]`, 123, null or true are not a privilege.
  const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false })
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema))

  app.setErrorHandler((err: Error & { code?: string, statusCode?: number, validation?: unknown }, request, reply) => {
    if (err.validation !== undefined) {
      request.log.info({ validation: err.message }, 'fastify-default-deny: invalid grant request')
      return reply.send(new codes.FST_DEFAULT_DENY_INVALID_REQUEST())
    }
    if (typeof err.code === 'string' && err.code.startsWith('FST_DEFAULT_DENY_')) return reply.send(err)
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors (malformed JSON, body too large, media type).
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode], message: 'Invalid request body' })
    }
    // Anything else is ours or the database's: fail closed, say nothing.
    request.log.error({ err }, 'fastify-default-deny: grant request failed')
    return reply.send(new codes.FST_DEFAULT_DENY_UNAVAILABLE())
  })

  const schemas = buildSchemas(deps.settings)
  const input = requestInput(deps.settings)
  grantReadRoutes(app, deps, schemas, input)
  grantChangeRoutes(app, deps, schemas, input)
  grantSetRoutes(app, deps, schemas, input)
  if (deps.members.stored) memberRoutes(app, deps, schemas, input)
}
