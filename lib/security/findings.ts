// The security self-check's rules: pure functions from the gathered facts to
// findings. Each id is stable: operators acknowledge findings by id.
import type { RouteManifestEntry, SecurityFinding, SecurityFindingId } from '../../fastify-plugin.js'
import type { SecurityFacts } from './facts.js'

type Verdict = Omit<SecurityFinding, 'id' | 'acknowledged'>
type Rule = (facts: SecurityFacts) => Verdict | null

const SHOWN = 10

/** `a, b, c and 4 more`: a message stays one readable line however many routes there are. */
function listed (items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(', ')
  return items.length > SHOWN ? `${shown} and ${items.length - SHOWN} more` : shown
}

const routeNames = (routes: readonly RouteManifestEntry[]) => routes.map((route) => `${route.method} ${route.url}`)
const error = (message: string, hint: string): Verdict => ({ level: 'error', message, hint })
const warning = (message: string, hint: string): Verdict => ({ level: 'warning', message, hint })

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/

function databaseIsLocal (facts: SecurityFacts): boolean {
  if (facts.connection !== null) return facts.connection.local
  const { database } = facts
  return 'error' in database || database.serverAddress === null || LOOPBACK.test(database.serverAddress)
}

// Kept in one record so that the compiler holds every id in
// SecurityFindingId to exactly one rule.
const RULES: Record<SecurityFindingId, Rule> = {
  'routes-unannotated': ({ routes }) => {
    const found = routes.filter((route) => route.access === 'unannotated' && route.method !== 'HEAD')
    if (found.length === 0) return null
    return warning(`${found.length} route(s) have no permission annotation and are denied to everyone: ${listed(routeNames(found))}`,
      "annotate each with config.permission ('public', 'authenticated' or { resource, privilege }), or remove it")
  },
  'routes-before-plugin': ({ routes }) => {
    const found = routes.filter((route) => route.access === 'before-plugin' && route.method !== 'HEAD')
    if (found.length === 0) return null
    return warning(`${found.length} route(s) were registered before fastify-default-deny, so their annotations were never checked and they are denied: ${listed(routeNames(found))}`,
      'register the plugin before your routes')
  },
  'jwt-unsigned-accepted': ({ jwt }) => {
    const found = jwt.filter((decorator) => decorator.acceptsUnsigned || decorator.algorithms?.includes('none') === true)
    if (found.length === 0) return null
    return error('@fastify/jwt accepts unsigned tokens (alg: none): anyone can sign in as anyone',
      "remove 'none' from verify.algorithms and pin the algorithm you sign with, e.g. verify: { algorithms: ['HS256'] }")
  },
  'jwt-sample-secret': ({ jwt }) => {
    if (!jwt.some((decorator) => decorator.acceptsSampleSecret)) return null
    return error('@fastify/jwt verifies tokens signed with a well-known sample secret: anyone can forge a token',
      'use a random secret of at least 32 bytes from a secret store (e.g. openssl rand -base64 32), or an asymmetric key pair')
  },
  'jwt-algorithms-unpinned': ({ jwt }) => {
    const found = jwt.filter((decorator) => decorator.algorithms === null)
    if (found.length === 0) return null
    return warning('@fastify/jwt verify.algorithms is not pinned: the token header chooses among the algorithms the key allows',
      "pin the algorithm you sign with: verify: { algorithms: ['HS256'] } (or ['RS256'], ['ES256'], ...)")
  },
  'trust-proxy-all': ({ server }) => {
    if (!server.trustsAnyProxy) return null
    return error('trustProxy is true, so any client can set its IP and protocol with X-Forwarded-* headers (whitelist and secure rules included)',
      "list your proxies instead: trustProxy: ['10.0.0.1'] or a CIDR of your load balancers")
  },
  'rules-whitelist-everyone': ({ rules }) => {
    if (rules === null || rules.openWhitelists.length === 0) return null
    return error(`endpoint rules whitelist every address (0.0.0.0/0 or ::/0) in group(s): ${listed(rules.openWhitelists)}`,
      "list the networks that may reach those paths, or use an 'open' rule if everyone really may")
  },
  'rules-diagnostics-on': ({ rules, production }) => {
    if (!production || rules === null || !rules.diagnostics) return null
    return warning('endpoint rules have settings.diagnostics on in production: denials name the path key, group and rule type to the client',
      'set settings.diagnostics to false; the log has the same details')
  },
  'rules-lockout-on': ({ rules, production }) => {
    if (!production || rules === null || !rules.lockout) return null
    return warning('endpoint rules have settings.lockout on: every request is refused',
      'set settings.lockout to false when maintenance is over (reloadRules switches it without a restart)')
  },
  'no-https': ({ production, server, grantApi }) => {
    if (!production || server.https || grantApi?.httpsOnly === true) return null
    return error('the server does not speak HTTPS and no endpoint rule refuses plain HTTP on the grant API: tokens and grant changes travel in clear text',
      "serve HTTPS (Fastify's https option), or behind a TLS proxy listed in trustProxy add a rule with secure: 1 for the grant routes; acknowledge 'no-https' if TLS ends elsewhere and you have checked it")
  },
  'grant-api-no-rate-limit': ({ grantApi }) => {
    if (grantApi === null || grantApi.rateLimit === 'before') return null
    const why = grantApi.rateLimit === 'after'
      ? '@fastify/rate-limit is registered after fastify-default-deny, so it never saw the grant routes'
      : 'the grant API has no rate limit'
    return warning(`${why}: a stolen token can change grants, and probe explain, as fast as it likes`,
      'register @fastify/rate-limit before fastify-default-deny (global: true, or config.rateLimit on the grant routes), or set grantRoutes: false')
  },
  'no-superuser': ({ superusers }) => {
    if (superusers) return null
    return warning('no principal can be a superuser (superuserClaim is false and there is no resolvePrincipal): a resource whose owner and managers are gone can only be recovered in the database',
      "set superuserClaim (e.g. 'admin') for a claim only your identity provider issues to a few operators")
  },
  'db-no-tls': (facts) => {
    const { database, connection } = facts
    if (!('error' in database) && database.embedded) return null
    const tls = 'error' in database || database.tls === null ? connection?.tls ?? null : database.tls
    if (tls !== false || databaseIsLocal(facts)) return null
    return error('the database connection is not encrypted and the server is not on this host: grants, tokens\' ids and the audit trail cross the network in clear text',
      'add sslmode=verify-full (with the server\'s CA) to the connection string, or connect over a Unix socket or loopback')
  },
  'db-superuser': ({ database }) => {
    if ('error' in database || !database.superuser || database.embedded) return null
    return error(`the plugin connects to PostgreSQL as the superuser '${database.role}': a flaw anywhere in the app can read or change every database on the server`,
      'connect as a least-privilege role: see sql/least-privilege.sql')
  },
  'db-role-too-broad': ({ database }) => {
    if ('error' in database || database.superuser || database.embedded) return null
    const more = [
      ...database.attributes,
      ...(database.ownsTables ? ["owns the plugin's tables"] : []),
      ...(database.auditWritable ? ['may update or delete audit entries'] : []),
      ...(database.schemaCreate ? ["may create objects in the plugin's schema"] : [])
    ]
    if (more.length === 0) return null
    return warning(`the database role '${database.role}' has more than the plugin needs: ${more.join(', ')}`,
      'run migrations as an owner role (migrate: false, then runMigrations or npm run migrate) and the app as the role from sql/least-privilege.sql')
  },
  'db-unchecked': ({ database }) => {
    if (!('error' in database)) return null
    return warning(`the database role and connection could not be checked: ${database.error}`,
      'make sure the database is reachable at start-up; run checkSecurity() again once it is')
  },
  'logger-verbose': ({ production, server }) => {
    if (!production || (server.logLevel !== 'debug' && server.logLevel !== 'trace')) return null
    return warning(`Fastify's logger is at '${server.logLevel}' in production: request details, headers and queries may end up in the log`,
      "log at 'info' or above in production")
  },
  'type-level-grants-forbidden': ({ forbiddenTypeLevel }) => {
    if (forbiddenTypeLevel.length === 0) return null
    return error(`type-level grants are stored on ${listed(forbiddenTypeLevel)}, which typeLevelGrants.forbid names: each still counts on every resource of its type, across tenants`,
      'list them with `fastify-default-deny export --resource TYPE` (an empty id is type-level) and revoke each (revoking is allowed on any type), or take the type out of typeLevelGrants.forbid')
  },
  'custom-error-handler': ({ production, server }) => {
    if (!production || !server.customErrorHandler) return null
    return warning('a custom error handler is set: the check cannot see whether it sends stack traces or internal messages to clients',
      "make sure it replies with a generic body for 5xx errors (never error.stack), then acknowledge 'custom-error-handler'")
  }
}

/** Every finding id, in report order. */
export const FINDING_IDS: readonly SecurityFindingId[] = Object.freeze(Object.keys(RULES) as SecurityFindingId[])

/** The findings the facts call for, errors first; acknowledged ones are kept and marked. */
export function securityFindings (facts: SecurityFacts, acknowledged: ReadonlySet<string>): SecurityFinding[] {
  const findings: SecurityFinding[] = []
  for (const id of FINDING_IDS) {
    const verdict = RULES[id](facts)
    if (verdict !== null) findings.push({ id, ...verdict, acknowledged: acknowledged.has(id) })
  }
  return findings.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1))
}

/** The findings that stop a production start-up: errors not acknowledged. */
export function blockingFindings (findings: readonly SecurityFinding[]): SecurityFinding[] {
  return findings.filter((finding) => finding.level === 'error' && !finding.acknowledged)
}
