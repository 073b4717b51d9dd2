// Collects the facts the self-check judges: from the Fastify instance, the
// plugin's settings and rules, @fastify/jwt, the connection string, and one
// query through the store. Every part that cannot be read says so in the
// facts instead of failing the check.
import { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { DatabaseOptions, EnforcementOptions, GrantRoutesOptions, PrincipalOptions } from '../options/index.js'
import type { RulesLayer } from '../rules/reloader.js'
import { withBudget } from '../store/deadline.js'
import { readDatabaseFacts, readForbiddenTypeLevel } from '../store/security.js'
import type { ConnectionFacts, DatabaseFacts, SecurityFacts } from './facts.js'
import { jwtFacts } from './jwt-probe.js'
import type { RouteManifest } from './manifest.js'
import { refusesPlainHttp, rulesFacts } from './rules-facts.js'

export type GatherSettings = { readonly grantRoutes: GrantRoutesOptions | null } & Pick<PrincipalOptions, 'superuserClaim' | 'resolvePrincipal'> &
Pick<DatabaseOptions, 'connectionString' | 'schema'> & Pick<EnforcementOptions, 'checkTimeout'> & { readonly typeLevelForbidden: ReadonlySet<string> }

export interface GatherProps {
  readonly fastify: FastifyInstance
  readonly settings: GatherSettings
  readonly rules: RulesLayer | null
  readonly db: Kysely<any>
  readonly manifest: RouteManifest
  /** Whether @fastify/rate-limit was registered when the plugin was. */
  readonly rateLimitBefore: boolean
}

// Fastify does not expose trustProxy in initialConfig; its options object is
// kept under a symbol on the root instance.
export function serverOption (fastify: object, name: string): unknown {
  for (let target: object | null = fastify; target !== null; target = Object.getPrototypeOf(target)) {
    const symbol = Object.getOwnPropertySymbols(target).find((s) => s.description === 'fastify.options')
    if (symbol !== undefined) return ((target as Record<symbol, Record<string, unknown> | undefined>)[symbol])?.[name]
  }
  return undefined
}

const LOCAL_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i
const TLS_PARAMS = ['sslcert', 'sslkey', 'sslrootcert']

/**
 * What node-postgres would do with the URL: TLS when `ssl=true|1`, any
 * sslmode but `disable`, or a certificate parameter; otherwise PGSSLMODE.
 */
export function connectionFacts (url: string, env: Record<string, string | undefined> = process.env): ConnectionFacts | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  const params = parsed.searchParams
  // `?host=/var/run/postgresql` names a Unix socket directory.
  const host = params.get('host') ?? decodeURIComponent(parsed.hostname)
  const local = host === '' || host.startsWith('/') || LOCAL_HOST.test(host)
  const ssl = params.get('ssl')
  const sslmode = params.get('sslmode')
  let tls: boolean
  if (ssl === 'true' || ssl === '1') tls = true
  else if (sslmode !== null) tls = sslmode !== 'disable'
  else if (TLS_PARAMS.some((name) => params.has(name))) tls = true
  else if (ssl === '0' || ssl === 'false') tls = false
  else tls = env.PGSSLMODE !== undefined && env.PGSSLMODE !== '' && env.PGSSLMODE !== 'disable'
  return { host, local, tls }
}

async function forbiddenTypeLevel (db: Kysely<any>, schema: string, types: ReadonlySet<string>, ms: number): Promise<string[]> {
  try {
    return await withBudget(ms, async () => await readForbiddenTypeLevel(db, schema, [...types]))
  } catch {
    // Before migrations there is no grant table, so nothing is stored.
    return []
  }
}

async function databaseFacts (db: Kysely<any>, schema: string, ms: number): Promise<DatabaseFacts | { error: string }> {
  try {
    return await withBudget(ms, async () => await readDatabaseFacts(db, schema))
  } catch (err) {
    return { error: (err as Error).message }
  }
}

/** The instance's own error handler is Fastify's unless someone set one. */
function hasCustomErrorHandler (fastify: FastifyInstance): boolean {
  const handler = (fastify as { errorHandler?: unknown }).errorHandler
  return typeof handler === 'function' && handler.name !== 'defaultErrorHandler'
}

export async function gatherFacts ({ fastify, settings, rules, db, manifest, rateLimitBefore }: GatherProps): Promise<SecurityFacts> {
  const routes = manifest.entries(fastify)
  const compiled = rules?.compiled ?? null
  const grantRoutes = routes.filter((route) => route.grantApi)
  const grantApi = settings.grantRoutes === null
    ? null
    : {
        httpsOnly: compiled !== null && grantRoutes.length > 0 && grantRoutes.every((route) => refusesPlainHttp(compiled, route.url)),
        rateLimit: rateLimitBefore ? 'before' as const : fastify.hasPlugin('@fastify/rate-limit') ? 'after' as const : 'none' as const
      }
  const level = (fastify.log as { level?: unknown }).level
  return {
    production: process.env.NODE_ENV === 'production',
    routes,
    jwt: jwtFacts((fastify as { jwt?: unknown }).jwt),
    server: {
      // Fastify refuses a /0 range in a list: only `true` trusts every address.
      trustsAnyProxy: serverOption(fastify, 'trustProxy') === true,
      https: fastify.server instanceof TlsServer,
      logLevel: typeof level === 'string' ? level : null,
      customErrorHandler: hasCustomErrorHandler(fastify)
    },
    rules: compiled === null ? null : rulesFacts(compiled),
    grantApi,
    superusers: settings.superuserClaim !== false || settings.resolvePrincipal !== null,
    connection: settings.connectionString === null ? null : connectionFacts(settings.connectionString),
    database: await databaseFacts(db, settings.schema, settings.checkTimeout),
    forbiddenTypeLevel: await forbiddenTypeLevel(db, settings.schema, settings.typeLevelForbidden, settings.checkTimeout)
  }
}
