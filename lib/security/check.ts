// The security self-check of one plugin instance: records the routes as
// they are registered, runs at `ready` (findings logged; in production an
// error not acknowledged stops start-up), and answers checkSecurity() and
// routeManifest() for the service API and the CLI.
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { DefaultDenyApi, RouteManifestEntry, SecurityFinding } from '../../fastify-plugin.js'
import { codes } from '../errors.js'
import type { SecurityOptions } from '../options/index.js'
import type { RulesLayer } from '../rules/reloader.js'
import { blockingFindings, securityFindings } from './findings.js'
import { gatherFacts, type GatherSettings } from './gather.js'
import { RouteManifest } from './manifest.js'

export type SecurityMethods = Pick<DefaultDenyApi, 'checkSecurity' | 'routeManifest'>

export interface SecurityCheckProps {
  readonly fastify: FastifyInstance
  readonly settings: GatherSettings & SecurityOptions
  readonly rules: RulesLayer | null
  readonly db: Kysely<any>
}

function logFindings (fastify: FastifyInstance, findings: readonly SecurityFinding[], routes: readonly RouteManifestEntry[]): void {
  for (const { id, level, message, hint, acknowledged } of findings) {
    if (acknowledged) fastify.log.info({ finding: id, severity: level }, `fastify-default-deny: acknowledged: ${message}`)
    else fastify.log.warn({ finding: id, severity: level, hint }, `fastify-default-deny: ${message}`)
  }
  const count = (access: RouteManifestEntry['access']) => routes.filter((route) => route.access === access && route.method !== 'HEAD').length
  const publicRoutes = routes.filter((route) => route.access === 'public' && route.method !== 'HEAD').map((route) => `${route.method} ${route.url}`)
  fastify.log.info({
    resource: count('resource'),
    authenticated: count('authenticated'),
    public: publicRoutes.slice(0, 50),
    denied: count('unannotated') + count('before-plugin')
  }, 'fastify-default-deny: route manifest (app.permissions.routeManifest() lists every route)')
}

/** Adds the hooks; call it where the plugin registers its own hooks. */
export function createSecurityCheck ({ fastify, settings, rules, db }: SecurityCheckProps): SecurityMethods {
  const manifest = new RouteManifest(settings.grantRoutes?.prefix ?? null)
  // Rate limiting works through onRoute: registered after the plugin, it never sees the grant routes.
  const rateLimitBefore = fastify.hasPlugin('@fastify/rate-limit')
  const pluginPrefix = fastify.prefix
  fastify.addHook('onRoute', (route) => { manifest.record(route, pluginPrefix) })

  const run = async () => {
    const facts = await gatherFacts({ fastify, settings, rules, db, manifest, rateLimitBefore })
    return { findings: securityFindings(facts, settings.acknowledge), routes: facts.routes }
  }

  fastify.addHook('onReady', async () => {
    const { findings, routes } = await run()
    logFindings(fastify, findings, routes)
    const blocking = blockingFindings(findings)
    if (process.env.NODE_ENV === 'production' && blocking.length > 0) {
      const err = new codes.FST_DEFAULT_DENY_INSECURE(blocking.map((finding) => finding.id).join(', '))
      // For a caller that reports rather than serves (the CLI's check).
      Object.assign(err, { findings })
      throw err
    }
  })
  return {
    checkSecurity: async () => (await run()).findings,
    routeManifest: () => manifest.entries(fastify)
  }
}
