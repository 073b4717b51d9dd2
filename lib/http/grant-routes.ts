// The grant-management HTTP API, in its own encapsulated scope: a strict
// validator, one error handler that never lets a client's input become a 500
// or 503, and the reading and changing routes. Every route needs a verified
// user; who may do what is decided by the grant use cases.
import { STATUS_CODES } from 'node:http'
import { Ajv } from 'ajv'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Principal } from '../../fastify-plugin.js'
import { MANAGE } from '../decision/policy.js'
import { requiresStepUp } from '../decision/step-up.js'
import { codes, invalidInput, quoted } from '../errors.js'
import { fieldName } from '../service/validation.js'
import { accessRoutes } from './access-routes.js'
import { grantChangeRoutes, grantSetRoutes } from './grant-change-routes.js'
import { requestInput, type GrantRoutesDeps } from './grant-input.js'
import { grantReadRoutes } from './grant-read-routes.js'
import { memberRoutes } from './member-routes.js'
import { treeRoutes } from './tree-routes.js'
import { buildSchemas, schemaRefusal, type SchemaError } from './schemas.js'
import { buildSharedSchemas } from './shared-schemas.js'
import { createStepUpGate } from './step-up.js'

const READING = new Set(['GET', 'HEAD', 'OPTIONS'])

/** A refusal of the client's input: the error body, plus where the value was (`field`, `in`). */
function sendRefusal (reply: FastifyReply, err: Error & { statusCode?: number, code?: string, field?: string, in?: string }) {
  const statusCode = err.statusCode ?? 400
  return reply.code(statusCode).send({ statusCode, code: err.code, error: STATUS_CODES[statusCode], message: err.message, field: err.field, in: err.in })
}

export const grantRoutes: FastifyPluginAsync<GrantRoutesDeps> = async (app, deps) => {
  // No coercion: `["read"]`, 123, null or true are not a privilege.
  // verbose: each error carries the value and its schema, for a refusal that names both.
  const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false, verbose: true })
  // The shared schemas: to this scope's validator, and through addSchema to
  // the serializer Fastify builds for the scope (and to an OpenAPI document).
  for (const shared of buildSharedSchemas(deps.settings)) {
    app.addSchema(shared)
    ajv.addSchema(shared)
  }
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema))

  app.setErrorHandler((err: Error & { code?: string, statusCode?: number, validation?: SchemaError[], validationContext?: string }, request, reply) => {
    if (err.validation !== undefined) {
      const refusal = schemaRefusal(err.validation, err.validationContext, quoted, fieldName)
      request.log.info({ validation: err.message }, 'fastify-default-deny: invalid grant request')
      return sendRefusal(reply, invalidInput(new codes.FST_DEFAULT_DENY_INVALID_REQUEST(refusal.message), refusal))
    }
    if (err.code === 'FST_DEFAULT_DENY_INVALID_REQUEST') return sendRefusal(reply, err)
    if (typeof err.code === 'string' && err.code.startsWith('FST_DEFAULT_DENY_')) return reply.send(err)
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors (malformed JSON, body too large, media type).
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode], message: 'Invalid request body' })
    }
    // Anything else is ours or the database's: fail closed, say nothing.
    request.log.error({ err }, 'fastify-default-deny: grant request failed')
    return reply.send(new codes.FST_DEFAULT_DENY_UNAVAILABLE())
  })

  // Only a scheme the host declared may be named: @fastify/swagger fails to
  // build the document when an operation names one that is not there.
  const { securityScheme } = deps.settings.grantRoutes ?? { securityScheme: null }
  if (securityScheme !== null) {
    app.addHook('onRoute', (route: RouteOptions) => {
      route.schema = { ...route.schema, security: [{ [securityScheme]: [] }] } as RouteOptions['schema']
    })
  }

  // Every change (grants, owner, members) is an exercise of `manage`: with
  // step-up covering it, each changing route refuses a token without its
  // second factor before the body is parsed or anything is read. Reading
  // grants, explain and the audit trail stay reads, as elsewhere.
  const { stepUp } = deps.settings
  if (stepUp !== null && requiresStepUp(stepUp, MANAGE)) {
    const gate = createStepUpGate(stepUp)
    const hook = async (request: FastifyRequest, reply: FastifyReply) => { gate.enforce(request, reply, request.principal as Principal) }
    app.addHook('onRoute', (route: RouteOptions) => {
      if (![route.method].flat().some((method) => !READING.has(method))) return
      route.onRequest = [...[route.onRequest ?? []].flat(), hook]
    })
  }

  const schemas = buildSchemas()
  const input = requestInput(deps.settings, deps.types)
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  grantReadRoutes(api, deps, schemas, input)
  grantChangeRoutes(api, deps, schemas, input)
  grantSetRoutes(api, deps, schemas, input)
  accessRoutes(api, deps, schemas, input)
  if (deps.members.stored) memberRoutes(api, deps, schemas, input)
  if (deps.hierarchy) treeRoutes(api, deps, schemas, input)
}
