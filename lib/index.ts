import type { FastifyPluginAsync } from 'fastify'
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
import { createEnforcer } from './hooks.js'
import { ANONYMOUS } from './principal.js'
import { compileRoute, kRoute } from './route-config.js'
import { RulesLayer } from './rules-layer.js'

export { codes } from './errors.js'
export { runMigrations } from './migrate.js'

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

  // The router's case sensitivity decides how rule paths compare.
  const caseSensitive = (fastify.initialConfig as { caseSensitive?: boolean }).caseSensitive !== false
  let rules: RulesLayer | null = null
  if (settings.rules !== null) {
    const layer = new RulesLayer(settings.rules, {
      levels: settings.rules.levels,
      levelAliases: settings.rules.levelAliases,
      maxElevate: settings.rules.maxElevate,
      caseSensitive
    })
    rules = layer
    if (settings.rules.watch) layer.watch(fastify.log)
    fastify.addHook('onClose', async () => { layer.close() })
  }
  if ((fastify.initialConfig as { trustProxy?: unknown }).trustProxy === true) {
    fastify.log.warn('fastify-default-deny: trustProxy is true, so any client can set its IP and protocol with X-Forwarded-* headers; list your proxies instead')
  }

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
    async reloadRules (source?: unknown) {
      if (rules === null) throw new codes.FST_DEFAULT_DENY_INVALID_RULES('rules: no endpoint rules are configured')
      rules.reload(source)
    },
    rulesStatus () {
      return rules === null ? null : rules.status
    },
    anonymous: ANONYMOUS,
    notFound: () => new codes.FST_DEFAULT_DENY_NOT_FOUND()
  }

  fastify.decorateRequest('principal', null)
  fastify.decorateRequest('accessLevel', null)
  fastify.decorate('permissions', api)

  fastify.addHook('onRoute', (route) => {
    route.config = { ...route.config, [kRoute]: compileRoute(route, settings) } as typeof route.config
  })

  const enforcer = createEnforcer(settings, store, policy, rules, caseSensitive)
  fastify.addHook('onRequest', enforcer.onRequest)
  if (rules !== null) fastify.addHook('preValidation', enforcer.preValidation)
}

export const fastifyDefaultDeny = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-default-deny',
  dependencies: ['@fastify/jwt'],
  decorators: { request: ['jwtVerify'] }
})

export default fastifyDefaultDeny
