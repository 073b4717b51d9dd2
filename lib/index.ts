import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type {
  CheckTarget, DefaultDenyApi, FastifyDefaultDenyOptions, GrantInput, Principal, ResourceRef, RevokeInput
} from '../fastify-plugin.js'
import { decide, type Policy } from './decide.js'
import { codes } from './errors.js'
import { GrantStore } from './grant-store.js'
import { isValidId } from './ids.js'
import { runMigrations } from './migrate.js'
import { resolveOptions, type Settings } from './options.js'
import { ANONYMOUS, InvalidCredentials, resolvePrincipal } from './principal.js'
import { compileRoute, compiledRouteOf, kRoute, type CompiledRoute } from './route-config.js'

export { codes } from './errors.js'
export { runMigrations } from './migrate.js'

class CheckTimeout extends Error {}

async function withTimeout<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`check took longer than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function ownedDatabase (connectionString: string, settings: Settings, log: { error: (obj: object, msg: string) => void }) {
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: settings.checkTimeout })
  // An idle client losing its connection emits 'error'; unhandled, it would crash the process.
  pool.on('error', (err) => log.error({ err }, 'fastify-default-deny: idle database connection failed'))
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
}

function checkInput (settings: Settings, input: ResourceRef & { privilege: string }) {
  const fail = (message: string): never => { throw new codes.FST_DEFAULT_DENY_INVALID_GRANT(message) }
  if (typeof input !== 'object' || input === null) fail('expected an object')
  if (!isValidId(input.resource, settings.maxIdLength)) fail('resource must be a valid id')
  if (input.id !== null && !isValidId(input.id, settings.maxIdLength)) fail('id must be a valid id or null')
  if (!settings.privileges.has(input.privilege)) fail('unknown privilege')
}

function checkGrantee (settings: Settings, grantee: GrantInput['grantee']) {
  const fail = (message: string): never => { throw new codes.FST_DEFAULT_DENY_INVALID_GRANT(message) }
  if (typeof grantee !== 'object' || grantee === null) fail('grantee must be an object')
  if (grantee.kind === 'anonymous') return
  if (grantee.kind !== 'user' && grantee.kind !== 'group') fail("grantee.kind must be 'user', 'group' or 'anonymous'")
  if (!isValidId((grantee as { id?: unknown }).id, settings.maxIdLength)) fail('grantee.id must be a valid id')
}

const plugin: FastifyPluginAsync<FastifyDefaultDenyOptions> = async (fastify, opts) => {
  const settings = resolveOptions(opts)
  if (fastify.hasDecorator('permissions')) throw new codes.FST_DEFAULT_DENY_ALREADY_REGISTERED()

  let db = settings.db
  if (db === null) {
    const owned = ownedDatabase(settings.connectionString as string, settings, fastify.log)
    fastify.addHook('onClose', async () => { await owned.destroy() })
    db = owned
  }
  if (settings.migrate) await runMigrations(db, { schema: settings.schema })

  const store = new GrantStore(db, settings.schema)
  const policy: Policy = { satisfiedBy: settings.satisfiedBy, ownerPrivileges: settings.ownerPrivileges }

  const api: DefaultDenyApi = {
    async check (principal: Principal, target: CheckTarget, options) {
      checkInput(settings, target)
      if (principal.superuser) return true
      const facts = await store.facts(principal, target, options?.db)
      return decide(principal, { kind: 'resource', resource: target.resource, privilege: target.privilege }, facts, policy) === 'allow'
    },
    async grant (input, options) {
      checkInput(settings, input)
      checkGrantee(settings, input.grantee)
      if (input.expiresAt != null && !(input.expiresAt instanceof Date && Number.isFinite(input.expiresAt.getTime()))) {
        throw new codes.FST_DEFAULT_DENY_INVALID_GRANT('expiresAt must be a valid Date')
      }
      if (input.grantedBy != null && !isValidId(input.grantedBy, settings.maxIdLength)) {
        throw new codes.FST_DEFAULT_DENY_INVALID_GRANT('grantedBy must be a valid id')
      }
      return await store.grant(input, options?.db)
    },
    async revoke (input: RevokeInput, options) {
      checkInput(settings, input)
      checkGrantee(settings, input.grantee)
      return await store.revoke(input, options?.db)
    },
    async listGrants (target, options) {
      if (!isValidId(target.resource, settings.maxIdLength) || (target.id !== null && !isValidId(target.id, settings.maxIdLength))) {
        throw new codes.FST_DEFAULT_DENY_INVALID_GRANT('resource and id must be valid ids')
      }
      return await store.listGrants(target, options?.db)
    },
    async setOwner (target, options) {
      if (!isValidId(target.resource, settings.maxIdLength) || !isValidId(target.id, settings.maxIdLength) ||
        (target.owner !== null && !isValidId(target.owner, settings.maxIdLength))) {
        throw new codes.FST_DEFAULT_DENY_INVALID_GRANT('resource, id and owner must be valid ids')
      }
      await store.setOwner(target, options?.db)
    },
    async getOwner (target, options) {
      if (!isValidId(target.resource, settings.maxIdLength) || !isValidId(target.id, settings.maxIdLength)) return null
      return await store.getOwner(target, options?.db)
    },
    async forgetResource (target, options) {
      if (!isValidId(target.resource, settings.maxIdLength) || !isValidId(target.id, settings.maxIdLength)) {
        throw new codes.FST_DEFAULT_DENY_INVALID_GRANT('resource and id must be valid ids')
      }
      await store.forgetResource(target, options?.db)
    },
    anonymous: ANONYMOUS,
    notFound: () => new codes.FST_DEFAULT_DENY_NOT_FOUND()
  }

  fastify.decorateRequest('principal', null)
  fastify.decorate('permissions', api)

  fastify.addHook('onRoute', (route) => {
    route.config = { ...route.config, [kRoute]: compileRoute(route, settings) } as typeof route.config
  })

  const deny = () => settings.hideForbidden
    ? new codes.FST_DEFAULT_DENY_NOT_FOUND()
    : new codes.FST_DEFAULT_DENY_FORBIDDEN()

  function resourceId (request: FastifyRequest, route: CompiledRoute): unknown {
    const source = route.id
    if (source === null || source.kind === 'type') return null
    if (source.kind === 'param') return (request.params as Record<string, unknown> | undefined)?.[source.name]
    return source.extract(request)
  }

  async function enforce (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    // The not-found handler runs no host route; it must keep answering 404.
    if (request.is404) return
    const route = compiledRouteOf(request.routeOptions.config)
    if (route === undefined) {
      request.log.warn({ route: request.routeOptions.url }, 'fastify-default-deny: route registered outside the plugin\'s reach; denied')
      throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    }
    const { requirement } = route
    if (requirement.kind === 'public') return
    if (requirement.kind === 'unannotated') {
      request.log.warn({ route: request.routeOptions.url }, 'fastify-default-deny: route has no permission annotation; denied')
      throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    }

    let principal: Principal
    try {
      principal = await resolvePrincipal(request, settings)
    } catch (err) {
      if (err instanceof InvalidCredentials) {
        request.log.info({ reason: err.reason }, 'fastify-default-deny: invalid credentials')
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw new codes.FST_DEFAULT_DENY_UNAUTHORIZED()
      }
      request.log.error({ err }, 'fastify-default-deny: principal resolution failed; failing closed')
      throw new codes.FST_DEFAULT_DENY_UNAVAILABLE()
    }
    request.principal = principal

    if (requirement.kind === 'authenticated') {
      if (decide(principal, requirement, null, policy) === 'allow') return
      reply.header('www-authenticate', 'Bearer')
      throw new codes.FST_DEFAULT_DENY_UNAUTHORIZED()
    }

    let facts = null
    let id: unknown = null
    try {
      id = resourceId(request, route)
      if (id !== null && !isValidId(id, settings.maxIdLength)) {
        // No stored resource can have this id, so there is nothing to find.
        throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
      }
      if (!principal.superuser) {
        facts = await withTimeout(store.facts(principal, { resource: requirement.resource, id: id as string | null }), settings.checkTimeout)
      }
    } catch (err) {
      if ((err as { code?: unknown }).code === 'FST_DEFAULT_DENY_NOT_FOUND') throw err
      request.log.error({ err }, 'fastify-default-deny: grant check failed; failing closed')
      throw new codes.FST_DEFAULT_DENY_UNAVAILABLE()
    }
    if (decide(principal, requirement, facts, policy) === 'allow') return
    request.log.info({
      principal: principal.id,
      resource: requirement.resource,
      privilege: requirement.privilege
    }, 'fastify-default-deny: denied')
    throw deny()
  }

  fastify.addHook('onRequest', enforce)
}

export const fastifyDefaultDeny = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-default-deny',
  dependencies: ['@fastify/jwt'],
  decorators: { request: ['jwtVerify'] }
})

export default fastifyDefaultDeny
