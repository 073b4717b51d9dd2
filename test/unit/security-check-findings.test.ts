// The finding rules on their own: pure functions of the facts, no app, no
// database. From a set-up with nothing to report, each change below raises
// exactly its finding, and undoing it raises nothing.
import t from 'tap'
import type { SecurityFindingId } from '../../fastify-plugin.js'
import type { SecurityFacts } from '../../lib/security/facts.js'
import { blockingFindings, FINDING_IDS, securityFindings } from '../../lib/security/findings.js'

const CLEAN: SecurityFacts = Object.freeze<SecurityFacts>({
  production: true,
  routes: [
    { method: 'GET', url: '/d/:id', access: 'resource', resource: 'document', privilege: 'read', idFrom: { param: 'id' }, grantApi: false },
    { method: 'GET', url: '/health', access: 'public', grantApi: false },
    { method: 'GET', url: '/permissions/:resource/:id/grants', access: 'authenticated', grantApi: true }
  ],
  jwt: [{ namespace: null, algorithms: ['HS256'], probed: true, acceptsUnsigned: false, acceptsSampleSecret: false }],
  server: { trustsAnyProxy: false, https: true, logLevel: 'info', customErrorHandler: false },
  rules: { diagnostics: false, lockout: false, openWhitelists: [] },
  grantApi: { httpsOnly: false, rateLimit: 'before' },
  superusers: true,
  connection: { host: 'db.internal', local: false, tls: true },
  database: {
    role: 'app', superuser: false, attributes: [], ownsTables: false, auditWritable: false, schemaCreate: false,
    tls: true, serverAddress: '10.0.0.5', embedded: false
  },
  forbiddenTypeLevel: []
})

const db = CLEAN.database as Exclude<SecurityFacts['database'], { error: string }>
const jwt0 = CLEAN.jwt[0] as SecurityFacts['jwt'][number]

// Each finding, and a change of the clean facts that calls for it.
const CASES: Array<[SecurityFindingId, 'error' | 'warning', Partial<SecurityFacts>]> = [
  ['routes-unannotated', 'warning', { routes: [...CLEAN.routes, { method: 'GET', url: '/forgotten', access: 'unannotated', grantApi: false }] }],
  ['routes-before-plugin', 'warning', { routes: [...CLEAN.routes, { method: 'GET', url: '/early', access: 'before-plugin', grantApi: false }] }],
  ['jwt-unsigned-accepted', 'error', { jwt: [{ ...jwt0, acceptsUnsigned: true }] }],
  ['jwt-sample-secret', 'error', { jwt: [{ ...jwt0, acceptsSampleSecret: true }] }],
  ['jwt-algorithms-unpinned', 'warning', { jwt: [{ ...jwt0, algorithms: null }] }],
  ['trust-proxy-all', 'error', { server: { ...CLEAN.server, trustsAnyProxy: true } }],
  ['rules-whitelist-everyone', 'error', { rules: { diagnostics: false, lockout: false, openWhitelists: ['anyone'] } }],
  ['rules-diagnostics-on', 'warning', { rules: { diagnostics: true, lockout: false, openWhitelists: [] } }],
  ['rules-lockout-on', 'warning', { rules: { diagnostics: false, lockout: true, openWhitelists: [] } }],
  ['no-https', 'error', { server: { ...CLEAN.server, https: false } }],
  ['grant-api-no-rate-limit', 'warning', { grantApi: { httpsOnly: false, rateLimit: 'none' } }],
  ['no-superuser', 'warning', { superusers: false }],
  ['db-no-tls', 'error', { database: { ...db, tls: false } }],
  ['db-superuser', 'error', { database: { ...db, superuser: true, role: 'postgres' } }],
  ['db-role-too-broad', 'warning', { database: { ...db, ownsTables: true } }],
  ['db-unchecked', 'warning', { database: { error: 'connect ECONNREFUSED' } }],
  ['logger-verbose', 'warning', { server: { ...CLEAN.server, logLevel: 'debug' } }],
  ['custom-error-handler', 'warning', { server: { ...CLEAN.server, customErrorHandler: true } }],
  ['type-level-grants-forbidden', 'error', { forbiddenTypeLevel: ['org'] }]
]

t.test('a clean set-up has no findings', async (t) => {
  t.same(securityFindings(CLEAN, new Set()), [])
})

t.test('each finding is raised by its fact alone, with its level, a message and a hint', async (t) => {
  t.same(CASES.map(([id]) => id).sort(), [...FINDING_IDS].sort(), 'every finding id has a case here')
  for (const [id, level, change] of CASES) {
    const findings = securityFindings({ ...CLEAN, ...change }, new Set())
    t.same(findings.map((finding) => finding.id), [id], id)
    t.equal(findings[0]?.level, level, `${id} is a ${level}`)
    t.ok((findings[0]?.message.length ?? 0) > 20 && (findings[0]?.hint.length ?? 0) > 10, `${id} says what and what to do`)
    t.equal(findings[0]?.acknowledged, false)
  }
})

t.test('variants that must, and must not, raise a finding', async (t) => {
  const only = (change: Partial<SecurityFacts>) => securityFindings({ ...CLEAN, ...change }, new Set()).map((finding) => finding.id)
  t.same(only({ jwt: [{ ...jwt0, algorithms: ['HS256', 'none'] }] }), ['jwt-unsigned-accepted'], "'none' among the pinned algorithms")
  t.same(only({ jwt: [{ ...jwt0, probed: false }] }), [], 'a key callback that was not probed is not a finding by itself')
  t.same(only({ routes: [{ method: 'HEAD', url: '/forgotten', access: 'unannotated', grantApi: false }] }), [], 'HEAD twins are not counted twice')
  t.same(only({ grantApi: { httpsOnly: false, rateLimit: 'after' } }), ['grant-api-no-rate-limit'], 'rate limit registered after the plugin')
  t.match(securityFindings({ ...CLEAN, grantApi: { httpsOnly: false, rateLimit: 'after' } }, new Set())[0]?.message, /registered after/)
  t.same(only({ grantApi: null, server: { ...CLEAN.server, https: false } }), ['no-https'], 'no grant API, no TLS: still no HTTPS')
  t.same(only({ grantApi: { httpsOnly: true, rateLimit: 'before' }, server: { ...CLEAN.server, https: false } }), [], 'an https-only rule on the grant API')
  t.same(only({ grantApi: null }), [], 'no grant API: no rate limit needed')
  t.same(only({ rules: null }), [])
  t.same(only({ server: { ...CLEAN.server, logLevel: 'trace' } }), ['logger-verbose'])
  t.same(only({ server: { ...CLEAN.server, logLevel: 'warn' } }), [])
  // The database.
  t.same(only({ database: { ...db, tls: false }, connection: { host: 'localhost', local: true, tls: false } }), [], 'no TLS on loopback')
  t.same(only({ database: { ...db, tls: false, serverAddress: null }, connection: null }), [], 'no TLS over a Unix socket')
  t.same(only({ database: { ...db, tls: false, serverAddress: '127.0.0.1' }, connection: null }), [], 'loopback, seen by the server')
  t.same(only({ database: { ...db, tls: false }, connection: null }), ['db-no-tls'], 'a host Kysely to a remote server')
  t.same(only({ database: { ...db, tls: null }, connection: { host: 'db.internal', local: false, tls: false } }), ['db-no-tls'], 'the server does not say: the URL does')
  t.same(only({ database: { error: 'x' }, connection: { host: 'db.internal', local: false, tls: false } }), ['db-no-tls', 'db-unchecked'])
  t.same(only({ database: { ...db, superuser: true, tls: false, embedded: true } }), [], 'embedded: no network and no other users')
  t.same(only({ database: { ...db, superuser: true, ownsTables: true } }), ['db-superuser'], 'a superuser is reported once')
  for (const broad of [{ attributes: ['createrole'] }, { auditWritable: true }, { schemaCreate: true }]) {
    t.same(only({ database: { ...db, ...broad } }), ['db-role-too-broad'], JSON.stringify(broad))
  }
  t.match(securityFindings({ ...CLEAN, database: { ...db, auditWritable: true, attributes: ['createdb'] } }, new Set())[0]?.message,
    /createdb, may update or delete audit entries/)
})

t.test('outside production, production-only findings stay quiet', async (t) => {
  const quiet: SecurityFindingId[] = ['rules-diagnostics-on', 'rules-lockout-on', 'no-https', 'logger-verbose', 'custom-error-handler']
  for (const [id, , change] of CASES) {
    const findings = securityFindings({ ...CLEAN, ...change, production: false }, new Set()).map((finding) => finding.id)
    t.same(findings, quiet.includes(id) ? [] : [id], id)
  }
})

t.test('acknowledged findings are kept and marked, and only unacknowledged errors block', async (t) => {
  const facts: SecurityFacts = { ...CLEAN, superusers: false, server: { ...CLEAN.server, https: false, trustsAnyProxy: true } }
  const all = securityFindings(facts, new Set())
  t.same(all.map((finding) => finding.id), ['trust-proxy-all', 'no-https', 'no-superuser'], 'errors first')
  t.same(blockingFindings(all).map((finding) => finding.id), ['trust-proxy-all', 'no-https'])
  const acknowledged = securityFindings(facts, new Set(['no-https', 'no-superuser']))
  t.same(acknowledged.map((finding) => [finding.id, finding.acknowledged]), [['trust-proxy-all', false], ['no-https', true], ['no-superuser', true]])
  t.same(blockingFindings(acknowledged).map((finding) => finding.id), ['trust-proxy-all'])
})

t.test('long route lists are cut in the message', async (t) => {
  const routes = Array.from({ length: 25 }, (_, i) => ({ method: 'GET', url: `/r${i}`, access: 'unannotated' as const, grantApi: false }))
  const [finding] = securityFindings({ ...CLEAN, routes }, new Set())
  t.match(finding?.message, /^25 route\(s\) .*GET \/r9 and 15 more$/)
})
