import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { FastifyDefaultDenyOptions } from '../fastify-plugin.js'
import { codes } from './errors.js'
import { createStore } from './store/index.js'
import { installCheckFunctions } from './store/check-functions.js'
import type { CheckFunctions } from './store/check-functions.js'
import { runMigrations } from './store/migrate.js'
import { EmbeddedUpkeep, refreshEmbeddedStatistics } from './store/maintenance.js'
import { resolveOptions } from './options/index.js'
import { postgresKysely } from './store/postgres.js'
import { createEnforcer } from './http/enforcer.js'
import { kDeferred } from './http/rules-step.js'
import { grantRoutes } from './http/grant-routes.js'
import { createApi, invalidGrant } from './service/api.js'
import { GrantService } from './service/grants.js'
import { joinSinks } from './service/runner.js'
import { MembershipService } from './service/members.js'
import { GrantQueries } from './service/queries.js'
import { createValidators } from './service/validation.js'
import { ResourceTypes } from './decision/resource-types.js'
import { compileRoute, kRoute } from './http/route-config.js'
import { RulesLayer } from './rules/reloader.js'
import { createSecurityCheck } from './security/check.js'
import { createCache } from './cache/index.js'
import { invalid } from './options/values.js'
import { DEFAULT_MOVE_STEP } from './options/hierarchy.js'
import { Authorizer } from './service/authorizer.js'
import { readStack } from './service/reads.js'
import { databaseOf, type Database } from './store/database.js'
import { createReadRoute, type ReadRoute } from './store/replicas.js'
import { formatRevision } from './revision.js'
import { loadAssets } from './admin/assets.js'
import { adminPageRoutes } from './admin/routes.js'
import { setUpObservability } from './observability/setup.js'
import { jwtForReuse } from './options/token-reuse.js'
import { TokenReuse } from './http/token-reuse.js'

export { codes } from './errors.js'
export { requireUser } from './http/principal.js'
export { runMigrations } from './store/migrate.js'
export { guardPool, kyselyPool, postgresKysely } from './store/postgres.js'

const plugin: FastifyPluginAsync<FastifyDefaultDenyOptions> = async (fastify, opts) => {
  // Checked here rather than through fastify-plugin's `decorators`, whose
  // generic message does not say what to do.
  if (!fastify.hasRequestDecorator('jwtVerify')) throw new codes.FST_DEFAULT_DENY_JWT_MISSING()
  const settings = resolveOptions(opts)
  if (fastify.hasDecorator('permissions')) throw new codes.FST_DEFAULT_DENY_ALREADY_REGISTERED()
  // Before anything is opened: a configuration reuse cannot honour is refused here.
  const tokens = settings.tokenReuse === null ? null : new TokenReuse(settings.tokenReuse, jwtForReuse((fastify as { jwt?: unknown }).jwt))

  // The router's case sensitivity decides how rule paths compare.
  const initial = fastify.initialConfig as { caseSensitive?: boolean, routerOptions?: { caseSensitive?: boolean } }
  const caseSensitive = (initial.routerOptions?.caseSensitive ?? initial.caseSensitive) !== false
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

  // A terminated backend, a failover or a reset socket costs the requests in
  // flight a 503 and this line; the pool replaces the connection.
  const onConnectionError = (err: Error) => fastify.log.error({ err }, 'fastify-default-deny: database connection lost')
  const { enforcement, policy, principal, levels, grants: grantOptions, groups, stepUp } = settings
  const { schema, connectionString } = settings.database
  let database: Database
  let checkFunctions: CheckFunctions | null = null
  const hierarchyScope = settings.hierarchy === null ? null : { parentTypes: [...settings.hierarchy.below.keys()].sort() }
  if (settings.database.db === null) {
    const url = connectionString as string
    const owned = postgresKysely(url, {
      connectionTimeoutMillis: enforcement.checkTimeout,
      // Checks run under the session's limit; a write sets its own, longer one.
      statementTimeout: enforcement.checkTimeout,
      queryTimeout: Math.max(enforcement.checkTimeout, enforcement.writeTimeout) + 1000,
      // The pool is the plugin's alone: every statement planned once, generically.
      genericPlans: true,
      onError: onConnectionError
    })
    fastify.addHook('onClose', async () => { await owned.destroy() })
    database = databaseOf(owned)
    if (settings.database.migrate) {
      // Migrations are not bound by checkTimeout: they get a connection of their own.
      const migrator = postgresKysely(url, { max: 1, onError: onConnectionError })
      try {
        await runMigrations(migrator, { schema })
      } finally {
        await migrator.destroy()
      }
    }
  } else {
    // The host's Kysely instance: what it can do is read once, here, and passed on.
    database = databaseOf(settings.database.db)
    if (settings.database.migrate) await runMigrations(database.db, { schema })
    // A Kysely the plugin did not build (a host's plain pg.Pool, kyselyPool, a
    // pooler): the route check as functions, whose plans the session keeps.
    if (database.direct === null && !database.embedded) {
      checkFunctions = await installCheckFunctions(database.db, { schema, groupDepth: groups.groupDepth, hierarchy: hierarchyScope }, (err) => {
        fastify.log.warn({ err }, 'fastify-default-deny: cannot install the route check as functions (CREATE on the schema); sending it as a statement, planned on every request unless the pool prepares it')
      })
    }
  }
  const db = database.db

  if (settings.replicas !== null && database.embedded) invalid('replicas', 'needs PostgreSQL: the embedded database has no standbys')
  const { reader, writer, audit, members: memberStore, tree } = createStore(database, schema, groups, hierarchyScope, checkFunctions)
  if (settings.hierarchy !== null) {
    // A move whose steps a stopped process cut short: the resources it had
    // not reached yet still decide as before it, until it is finished here.
    try {
      const finished = await tree.settle()
      if (finished > 0) fastify.log.info({ moves: finished }, 'fastify-default-deny: finished moves whose steps were cut short')
    } catch (err) {
      fastify.log.error({ err }, 'fastify-default-deny: cannot finish the moves whose steps were cut short; the next change of the resource tree will')
    }
  }
  const cache = settings.cache === null
    ? null
    : createCache({ settings: settings.cache, database, connectionString, schema, reader, log: fastify.log, below: settings.hierarchy?.below })
  if (cache !== null) {
    // Serving starts once the feed listens; until then (and whenever it is lost) every check asks the database.
    await cache.feed.start()
    fastify.addHook('onClose', async () => { await cache.feed.close() })
  }
  let route: ReadRoute | null = null
  if (settings.replicas !== null) {
    const standbys = createReadRoute({ settings: settings.replicas, primary: db, checkTimeout: enforcement.checkTimeout, log: fastify.log, onConnectionError })
    fastify.addHook('onClose', standbys.close)
    // Until the first poll has answered, every read goes to the primary.
    await standbys.route.start()
    route = standbys.route
  }
  const observability = await setUpObservability({
    fastify,
    settings: settings.observability,
    db,
    cache: cache === null ? null : { stats: cache.stats, feed: cache.feed },
    route
  })
  const { observer } = observability
  const authorizer = new Authorizer({ policy, observer, reader: readStack({ reader, cached: cache?.cached ?? null, barrier: cache?.feed.barrier ?? null, route, scope: { schema, groupDepth: groups.groupDepth, hierarchy: hierarchyScope } }) })
  // Annotated types join as their routes are registered (see onRoute below).
  const types = new ResourceTypes(settings.resources.any, [...settings.resources.declared, ...settings.typeLevelGrants.forbidden, ...settings.hierarchy?.types ?? []], groups.groupResource)
  // Each component is handed the slices it reads, under the names it reads them by.
  const validation = {
    maxIdLength: enforcement.maxIdLength,
    privileges: policy.privileges,
    anonymousPrivileges: grantOptions.anonymousPrivileges,
    canHold: grantOptions.canHold,
    typeLevelForbidden: settings.typeLevelGrants.forbidden
  }
  const runner = {
    hideForbidden: enforcement.hideForbidden,
    writeTimeout: enforcement.writeTimeout,
    levelPrivileges: levels.levelPrivileges,
    allowManageDelegation: grantOptions.allowManageDelegation,
    resourceExists: grantOptions.resourceExists
  }
  const validators = createValidators(validation, invalidGrant, types)
  // The embedded database has no autovacuum: the plugin vacuums and analyzes
  // its own tables once enough rows have changed (lib/store/maintenance.ts).
  const upkeep = database.embedded
    ? new EmbeddedUpkeep({
      refresh: async () => await refreshEmbeddedStatistics(db, schema),
      onError: (err) => { fastify.log.warn({ err }, 'fastify-default-deny: cannot vacuum and analyze the embedded database; the next change past the threshold tries again') }
    })
    : null
  if (upkeep !== null) fastify.addHook('onClose', async () => { await upkeep.close() })
  const changed = joinSinks(cache?.changed ?? null, upkeep)
  const grants = new GrantService({ reader, writer, audit, policy, settings: { ...runner, checkTimeout: enforcement.checkTimeout }, validators, changed, observer, hierarchy: settings.hierarchy, tree,
    moveStep: settings.hierarchy?.moveStep ?? (database.embedded ? DEFAULT_MOVE_STEP.embedded : DEFAULT_MOVE_STEP.server) })
  const members = new MembershipService({ members: memberStore, writer, policy, settings: { ...runner, ...groups }, changed, observer })
  const queries = new GrantQueries({ reader, audit, policy, members: memberStore, stepUp, authorizer, tree, auditFailed: () => { observer.metrics.auditFailed() } })
  // trustProxy: true, and the rest of what an operator should know, is reported at ready.
  const security = createSecurityCheck({
    fastify,
    settings: {
      grantRoutes: settings.grantRoutes,
      superuserClaim: principal.superuserClaim,
      resolvePrincipal: principal.resolvePrincipal,
      connectionString,
      schema,
      checkTimeout: enforcement.checkTimeout,
      acknowledge: settings.security.acknowledge,
      typeLevelForbidden: settings.typeLevelGrants.forbidden
    },
    rules,
    db
  })
  const api = createApi({
    grants,
    members,
    queries,
    validators,
    rules,
    security,
    cacheStats: cache === null ? () => null : cache.stats,
    forgetTokens: () => tokens?.forget() ?? 0,
    position: async () => await writer.position(),
    replicaStats: () => route?.status().map((s) => ({ ...s, replayed: formatRevision(s.replayed) })) ?? null,
    observability: { metrics: () => observer.metrics.snapshot(), health: observability.health },
    defaultPrivilege: [...policy.privileges][0] as string
  })

  fastify.decorateRequest('principal', null)
  fastify.decorateRequest('accessLevel', null)
  fastify.decorate('permissions', api)

  const routeSettings = { maxIdLength: enforcement.maxIdLength, privileges: policy.privileges, policy, stepUp }
  fastify.addHook('onRoute', (route) => {
    const compiled = compileRoute(route, routeSettings)
    if (compiled.requirement.kind === 'resource') types.add(compiled.requirement.resource)
    route.config = { ...route.config, [kRoute]: compiled } as typeof route.config
  })

  const enforcer = createEnforcer({ settings: { ...principal, ...enforcement, ...levels, stepUp }, authorizer, policy, rules, caseSensitive, observer, tokens })
  fastify.decorateRequest(kDeferred, null)
  fastify.addHook('onRequest', enforcer.onRequest)
  if (enforcer.preValidation !== null) fastify.addHook('preValidation', enforcer.preValidation)

  if (settings.grantRoutes !== null) {
    const grantRouteSettings = { ...validation, grantRoutes: settings.grantRoutes, stepUp, levelPrivileges: levels.levelPrivileges }
    await fastify.register(grantRoutes, { prefix: settings.grantRoutes.prefix, settings: grantRouteSettings, grants, members, queries, types, hierarchy: settings.hierarchy !== null })
  }
  if (settings.adminPage !== null && settings.grantRoutes !== null) {
    // What the page needs to know to call the API; nothing in it is secret.
    const assets = loadAssets(fastify.prefix + settings.adminPage.prefix, {
      api: fastify.prefix + settings.grantRoutes.prefix,
      tokenUrl: settings.adminPage.tokenUrl,
      privileges: [...policy.privileges],
      anonymousPrivileges: [...grantOptions.anonymousPrivileges],
      groups: groups.groupDepth > 0,
      hierarchy: settings.hierarchy !== null
    })
    await fastify.register(adminPageRoutes, { prefix: settings.adminPage.prefix, assets })
  }
}

export const fastifyDefaultDeny = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-default-deny'
})

export default fastifyDefaultDeny
