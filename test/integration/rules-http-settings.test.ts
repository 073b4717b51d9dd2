// Behaviours 57 and 58 over HTTP: lockout refuses everything; diagnostics
// name the failing key, group and rule type, and never a secret, in the
// response or in the log.
import t, { type Test } from 'tap'
import { LogController, type FastifyServerOptions } from 'fastify'
import type { EndpointRules, FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { captureLogs, listen, makePki, request } from '../fixtures/tls/helpers.js'

const LOCKED: EndpointRules = {
  paths: { 'public': 'open', 'docs/': 'open' },
  groups: { open: { type: 'open', terminal: true } },
  settings: { lockout: true }
}

async function lockable (t: Test, options: Partial<FastifyDefaultDenyOptions>) {
  const { app, as } = await build(t, { superuserClaim: 'admin', ...options })
  const ran: string[] = []
  let parsed = 0
  app.addContentTypeParser('application/x-probe', (_request, _payload, done) => { parsed++; done(null, {}) })
  app.get('/public', { config: { permission: 'public' } }, async () => { ran.push('public'); return 'ok' })
  app.get('/me', { config: { permission: 'authenticated' } }, async () => { ran.push('me'); return 'ok' })
  app.get('/docs/:id', { config: { permission: { resource: 'doc', privilege: 'read' } } }, async () => { ran.push('docs'); return 'ok' })
  app.post('/docs/:id', { config: { permission: { resource: 'doc', privilege: 'read' } } }, async () => { ran.push('docs post'); return 'ok' })
  app.get('/plain', async () => { ran.push('plain'); return 'ok' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'doc', id: '1', privilege: 'read' })
  const requests = [
    { url: '/public' },
    { url: '/public', headers: { authorization: 'Bearer broken' } },
    { url: '/me', headers: as('alice') },
    { url: '/docs/1', headers: as('alice') },
    { url: '/docs/1', headers: as('root', { admin: true, level: 'superuser' }) },
    { url: '/docs/1', method: 'POST' as const, headers: { ...as('alice'), 'content-type': 'application/x-probe' }, payload: 'x' },
    { url: '/docs/1', method: 'HEAD' as const, headers: as('alice') },
    { url: '/plain' },
    { url: '/no/such/route' }
  ]
  return { app, ran, requests, parsedCount: () => parsed }
}

t.test('without lockout the routes answer normally (control)', async t => {
  const s = await lockable(t, { rules: { ...LOCKED, settings: { lockout: false } } })
  const statuses = []
  for (const req of s.requests) statuses.push((await s.app.inject(req)).statusCode)
  t.same(statuses, [200, 200, 200, 200, 200, 200, 200, 403, 404])
})

t.test('lockout refuses every request with 503 and Retry-After (behaviour 57)', async t => {
  const s = await lockable(t, { rules: LOCKED })
  for (const req of s.requests) {
    const res = await s.app.inject(req)
    const what = `${req.method ?? 'GET'} ${req.url}${req.headers === undefined ? '' : ' with credentials'}`
    t.equal(res.statusCode, 503, what)
    t.equal(res.headers['retry-after'], '300', `${what}: Retry-After`)
    if (req.method !== 'HEAD') t.equal(res.json().code, 'FST_DEFAULT_DENY_LOCKOUT', `${what}: code`)
  }
  t.same(s.ran, [], 'no handler ran')
  t.equal(s.parsedCount(), 0, 'no body was parsed')

  const custom = await lockable(t, { rules: LOCKED, lockoutRetryAfter: 60 })
  t.equal((await custom.app.inject({ url: '/public' })).headers['retry-after'], '60')
})

t.test('lockoutStatus: 403', async t => {
  const s = await lockable(t, { rules: LOCKED, lockoutStatus: 403 })
  for (const req of s.requests) {
    const res = await s.app.inject(req)
    t.equal(res.statusCode, 403, req.url)
    if (req.method !== 'HEAD') t.equal(res.json().code, 'FST_DEFAULT_DENY_LOCKOUT')
    t.equal(res.headers['retry-after'], undefined, 'no Retry-After on a 403')
  }
  t.same(s.ran, [])
})

t.test('lockout is switched on and off by reloading the rules', async t => {
  const s = await lockable(t, { rules: { ...LOCKED, settings: { lockout: false } } })
  t.equal((await s.app.inject({ url: '/public' })).statusCode, 200)
  await s.app.permissions.reloadRules(LOCKED)
  t.equal((await s.app.inject({ url: '/public' })).statusCode, 503, 'locked')
  t.equal((await s.app.inject({ url: '/docs/1', headers: { authorization: 'Bearer x' } })).statusCode, 503)
  await s.app.permissions.reloadRules({ ...LOCKED, settings: { lockout: false } })
  t.equal((await s.app.inject({ url: '/public' })).statusCode, 200, 'unlocked')
  t.same(s.ran, ['public', 'public'])
})

// Values that must never reach a response or the log.
const SECRETS = {
  configuredToken: 'tok-configured-SECRET-4f1c',
  sentToken: 'tok-sent-SECRET-9a2e',
  listedIp: '10.9.8.7',
  clientIp: '198.51.100.77',
  clientCN: 'secret-cn.example.org',
  paramValue: 'param-SECRET-5d7b',
  listedUser: 'listed-user-SECRET',
  user: 'caller-user-SECRET'
}

const DIAGNOSED: EndpointRules = {
  paths: { 't/': 'tokens', 'c/': 'certs', 'w/': 'addresses', 'p/': 'params', 'u/': 'users' },
  groups: {
    tokens: { type: 'token', header: 'X-Access-Token', value: SECRETS.configuredToken },
    certs: { type: 'cert', name: 'com\\.mycompany\\..*' },
    addresses: { type: 'whitelist', list: [SECRETS.listedIp] },
    params: { type: 'open', param_property: '(28|35)' },
    users: { type: 'isuser', list: [SECRETS.listedUser] }
  }
}

// A real HTTPS server with client certificates, behind a trusted proxy, so
// that every kind of secret is part of some request.
async function diagnosed (t: Test, diagnostics: boolean) {
  const pki = makePki(t)
  const client = pki.client(SECRETS.clientCN)
  const logs = captureLogs()
  const fastifyOptions = {
    https: { ...pki.server, ca: [pki.ca.cert], requestCert: true, rejectUnauthorized: false },
    trustProxy: ['127.0.0.1'],
    // Fastify's own request log has the URL and the address; the claim is about the plugin.
    logController: new LogController({ disableRequestLogging: true }),
    logger: { level: 'trace', stream: logs.stream }
  } as unknown as FastifyServerOptions
  const { app, as } = await build(t, { rules: { ...DIAGNOSED, settings: { diagnostics } } }, fastifyOptions)
  let ran = 0
  for (const prefix of ['t', 'c', 'w', 'p', 'u']) {
    app.get(`/${prefix}/x`, { config: { permission: 'public' } }, async () => { ran++; return 'ok' })
  }
  const port = await listen(app)
  const headers = {
    ...as(SECRETS.user),
    'x-access-token': SECRETS.sentToken,
    'x-forwarded-for': SECRETS.clientIp
  }
  const responses = []
  for (const [path, where] of [
    [`/t/x?property=${SECRETS.paramValue}`, { key: 't/', group: 'tokens', rule: 'token' }],
    [`/c/x?property=${SECRETS.paramValue}`, { key: 'c/', group: 'certs', rule: 'cert' }],
    [`/w/x?property=${SECRETS.paramValue}`, { key: 'w/', group: 'addresses', rule: 'whitelist' }],
    [`/p/x?property=${SECRETS.paramValue}`, { key: 'p/', group: 'params', rule: 'open' }],
    [`/u/x?property=${SECRETS.paramValue}`, { key: 'u/', group: 'users', rule: 'isuser' }]
  ] as const) {
    const res = await request({ port, path, headers, https: true, ...client })
    responses.push({ res, where })
  }
  await app.close()
  return { responses, logs, ran: () => ran }
}

function noSecrets (t: Test, text: string, where: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    t.notOk(text.includes(secret), `${where} does not contain the ${name}`)
  }
}

t.test('diagnostics off (the default): a generic body; the log names the rule (behaviour 58)', async t => {
  const { responses, logs, ran } = await diagnosed(t, false)
  for (const { res, where } of responses) {
    t.equal(res.status, 403, where.key)
    t.same(res.json(), { statusCode: 403, code: 'FST_DEFAULT_DENY_RULE_DENIED', error: 'Forbidden', message: 'Forbidden' }, `${where.key}: generic body`)
    noSecrets(t, res.body, `${where.key} body`)
    t.ok(logs.records.some(record => record.pathKey === where.key && record.group === where.group && record.ruleType === where.rule),
      `${where.key}: the log names the path key, group and rule type`)
  }
  t.equal(ran(), 0)
  noSecrets(t, logs.text(), 'the log')
})

t.test('diagnostics on: the body names path key, group and rule type, never a secret (behaviour 58)', async t => {
  const { responses, logs, ran } = await diagnosed(t, true)
  for (const { res, where } of responses) {
    t.equal(res.status, 403, where.key)
    t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED')
    t.equal(res.json()?.message, `Forbidden: path '${where.key}', group '${where.group}', rule '${where.rule}'`, `${where.key}: message`)
    noSecrets(t, res.body, `${where.key} body`)
  }
  t.equal(ran(), 0)
  t.ok(logs.records.length > 0, 'something was logged')
  noSecrets(t, logs.text(), 'the log')
})
