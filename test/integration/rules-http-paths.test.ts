// Behaviours 35 and 36 over real sockets: app.inject() normalises paths before
// routing, so path tricks can only be tested with the bytes on the wire.
// Every trick is first sent to a twin app without rules, to show that it does
// reach a handler; then the same bytes must be refused by the rules.
import t, { type Test } from 'tap'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { EndpointRules } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { listen, raw, rawGet, type Response } from '../fixtures/tls/helpers.js'

const RULES: EndpointRules = {
  paths: {
    'admin/': 'admins',
    'api/': 'deny',
    'api/connect': 'allow',
    'reports/daily': 'deny'
  },
  groups: {
    admins: { type: 'userlevel', level: 'admin' },
    deny: { type: 'block' },
    allow: { type: 'open', terminal: 1 }
  },
  settings: { diagnostics: true }
}

const PUBLIC = { config: { permission: 'public' as const } }

/** Public routes, so only the rules layer stands between a client and a handler. */
function routes (app: FastifyInstance, ran: string[]): void {
  const handler = (name: string) => async () => { ran.push(name); return { handler: name } }
  app.get('/admin', PUBLIC, handler('admin'))
  app.get('/admin/x', PUBLIC, handler('admin/x'))
  app.get('/admin/*', PUBLIC, handler('admin/*'))
  app.get('/administrator', PUBLIC, handler('administrator'))
  app.get('/public/*', PUBLIC, handler('public/*'))
  app.get('/api', PUBLIC, handler('api'))
  app.get('/api/connect', PUBLIC, handler('api/connect'))
  app.get('/api/*', PUBLIC, handler('api/*'))
  app.get('/reports/daily', PUBLIC, handler('reports/daily'))
  app.get('/reports/*', PUBLIC, handler('reports/*'))
  app.get('/*', PUBLIC, handler('/*'))
}

interface Server {
  port: number
  ran: string[]
  as: (sub: string, extra?: Record<string, unknown>) => { authorization: string }
}

async function server (t: Test, rules: EndpointRules | null, fastifyOptions: FastifyServerOptions = {}): Promise<Server> {
  const { app, as } = await build(t, rules === null ? {} : { rules }, fastifyOptions)
  const ran: string[] = []
  routes(app, ran)
  return { port: await listen(app), ran, as }
}

function denied (t: Test, res: Response, message: string | RegExp, what: string): void {
  t.equal(res.status, 403, `${what}: status`)
  t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED', `${what}: code`)
  t.match(res.json()?.message, message, `${what}: message`)
}

// [raw request target, handler it reaches without rules, why the rules refuse it]
const TRICKS: Array<[string, string, RegExp]> = [
  ['/admin//x', 'admin/*', /invalid-path/],
  ['//admin/x', '/*', /invalid-path/],
  ['/admin/./x', 'admin/*', /invalid-path/],
  ['/public/../admin/x', 'public/*', /invalid-path/],
  ['/public/%2e%2e/admin/x', 'public/*', /invalid-path/],
  ['/public/%2E%2E/admin/x', 'public/*', /invalid-path/],
  ['/%2e%2e/admin/x', '/*', /invalid-path/],
  ['/public/..\\admin\\x', 'public/*', /invalid-path/],
  ['/admin\\x', '/*', /invalid-path/],
  ['/admin%5Cx', '/*', /invalid-path/],
  ['/admin%2Fx', '/*', /invalid-path/],
  ['/admin%2fx', '/*', /invalid-path/],
  ['/public/..%2Fadmin%2Fx', 'public/*', /invalid-path/],
  ['/%61dmin/x', 'admin/x', /path 'admin\/', group 'admins', rule 'userlevel'/],
  ['/%61%64%6d%69%6e/x', 'admin/x', /path 'admin\/'/],
  ['http://evil/admin/x', 'admin/x', /path 'admin\/'/],
  ['HTTPS://evil:8443/admin/x?y=1', 'admin/x', /path 'admin\/'/],
  ['http://evil/%61dmin/x', 'admin/x', /path 'admin\/'/]
]

t.test('without rules, every trick reaches a handler (so the test below can fail)', async t => {
  const open = await server(t, null)
  for (const [target, handler] of TRICKS) {
    open.ran.length = 0
    const res = await rawGet(open.port, target)
    t.equal(res.status, 200, target)
    t.same(open.ran, [handler], `${target} reaches ${handler}`)
  }
})

t.test('path tricks cannot get past an admin/ rule (behaviour 36)', async t => {
  const s = await server(t, RULES)
  for (const [target, , why] of TRICKS) {
    denied(t, await rawGet(s.port, target, s.as('reader', { level: 'reader' })), why, target)
    denied(t, await rawGet(s.port, target), why, `${target} (anonymous)`)
  }
  t.same(s.ran, [], 'no handler ran')

  // Control: the admin handler is reachable by an admin, so the refusals above
  // come from the rule. Tricks that the rules decode (percent-encoding,
  // absolute form) are judged by the admin/ rule and pass for an admin; the
  // ambiguous shapes are refused for everyone.
  const admin = s.as('root', { level: 'admin' })
  for (const [target, handler, why] of TRICKS) {
    s.ran.length = 0
    const res = await rawGet(s.port, target, admin)
    if (why.source.includes('invalid-path')) {
      denied(t, res, /invalid-path/, `${target} (admin)`)
      t.same(s.ran, [], `${target}: refused even for an admin`)
    } else {
      t.equal(res.status, 200, `${target} (admin)`)
      t.same(s.ran, [handler], `${target} (admin) reaches ${handler}`)
    }
  }
})

t.test('a case-insensitive router: /ADMIN/x is judged by the admin/ rule', async t => {
  const open = await server(t, null, { caseSensitive: false })
  for (const target of ['/ADMIN/x', '/Admin/X', '/%41DMIN/x']) {
    open.ran.length = 0
    t.equal((await rawGet(open.port, target)).status, 200, target)
    t.same(open.ran, ['admin/x'], `${target} reaches admin/x without rules`)
  }
  const s = await server(t, RULES, { caseSensitive: false })
  for (const target of ['/ADMIN/x', '/Admin/X', '/%41DMIN/x', '/ADMIN', 'http://evil/ADMIN/x']) {
    denied(t, await rawGet(s.port, target, s.as('reader', { level: 'reader' })), /path 'admin\/'/, target)
  }
  t.same(s.ran, [])
  // On a case-sensitive router /ADMIN/x is another path, and reaches another handler.
  const sensitive = await server(t, RULES)
  t.equal((await rawGet(sensitive.port, '/ADMIN/x')).status, 200)
  t.same(sensitive.ran, ['/*'])
})

t.test('a case-insensitive router configured through routerOptions', async t => {
  // Fastify 5's non-deprecated form: initialConfig.caseSensitive stays true
  // here, so the plugin must read routerOptions.
  const options = { routerOptions: { caseSensitive: false } } as FastifyServerOptions
  const open = await server(t, null, options)
  t.equal((await rawGet(open.port, '/ADMIN/x')).status, 200)
  t.same(open.ran, ['admin/x'], 'without rules /ADMIN/x reaches admin/x')
  const s = await server(t, RULES, options)
  const res = await rawGet(s.port, '/ADMIN/x', s.as('reader', { level: 'reader' }))
  t.equal(res.status, 403, '/ADMIN/x is denied')
  t.match(res.json()?.message, /path 'admin\/'/, 'by the admin/ rule')
  t.same(s.ran, [], 'the admin handler did not run')
})

t.test('a folder key covers /admin, /admin/ and everything below (behaviour 35)', async t => {
  const s = await server(t, RULES)
  const reader = s.as('reader', { level: 'reader' })
  for (const target of ['/admin', '/admin/', '/admin/x', '/admin/a/b/c', '/admin?x=1', '/admin/?x=1']) {
    denied(t, await rawGet(s.port, target, reader), /path 'admin\/'/, target)
  }
  t.same(s.ran, [])
  for (const [target, handler] of [['/administrator', 'administrator'], ['/adminx', '/*'], ['/public/admin/x', 'public/*']]) {
    s.ran.length = 0
    t.equal((await rawGet(s.port, target as string, reader)).status, 200, `${target} is not under admin/`)
    t.same(s.ran, [handler])
  }
})

t.test('an exact key covers exactly its path, whatever the query string (behaviour 35)', async t => {
  const s = await server(t, RULES)
  for (const target of ['/reports/daily', '/reports/daily?x=1', '/reports/daily?next=/../weekly', '/reports/daily/', '/reports/%64aily']) {
    denied(t, await rawGet(s.port, target), /path 'reports\/daily', group 'deny', rule 'block'/, target)
  }
  t.same(s.ran, [])
  for (const target of ['/reports/weekly', '/reports/daily/more', '/reports/dailyx']) {
    s.ran.length = 0
    t.equal((await rawGet(s.port, target)).status, 200, target)
    t.same(s.ran, ['reports/*'], `${target} is not the exact path`)
  }
})

t.test('a terminal exact key does not open its trailing-slash twin', async t => {
  const open = await server(t, null)
  t.equal((await rawGet(open.port, '/api/connect/')).status, 200)
  t.same(open.ran, ['api/*'], 'without rules /api/connect/ reaches the /api/* wildcard')

  const s = await server(t, RULES)
  const ok = await rawGet(s.port, '/api/connect?x=1')
  t.equal(ok.status, 200)
  t.same(s.ran, ['api/connect'])
  s.ran.length = 0
  for (const target of ['/api/connect/', '/api/connect/?x=1', '/api/connect/x', '/api/other', '/api', '/api/']) {
    denied(t, await rawGet(s.port, target), /path 'api\/', group 'deny', rule 'block'/, target)
  }
  for (const target of ['/api/connect//', '/api//connect', '/api/x/../connect', '/api/connect/.']) {
    denied(t, await rawGet(s.port, target), /invalid-path/, target)
  }
  t.same(s.ran, [], 'the /api/* handler never ran')
})

t.test('a semicolon cannot split the path away from an exact key (router option useSemicolonDelimiter)', async t => {
  const rules: EndpointRules = { paths: { 'reports/daily': 'deny' }, groups: { deny: { type: 'block' } }, settings: { diagnostics: true } }
  const options = { routerOptions: { useSemicolonDelimiter: true } } as FastifyServerOptions
  const open = await server(t, null, options)
  t.equal((await rawGet(open.port, '/reports/daily;x=1')).status, 200)
  t.same(open.ran, ['reports/daily'], 'the router cuts the path at ";"')

  const s = await server(t, rules, options)
  for (const target of ['/reports/daily;x=1', '/reports/daily;', '/reports;x/daily']) {
    denied(t, await rawGet(s.port, target), /invalid-path/, target)
  }
  t.same(s.ran, [], 'the reports/daily handler did not run')
  // Without the router option the path is refused all the same: the rules
  // cannot tell how the router reads it.
  const plain = await server(t, rules)
  denied(t, await rawGet(plain.port, '/reports/daily;x=1'), /invalid-path/, 'default router')
  t.same(plain.ran, [])
})

t.test('an encoded reserved character cannot make a terminal key judge another route', async t => {
  // The router leaves %3A, %40, … encoded while matching static routes, so
  // /api/v1%3Aconnect is not the /api/v1:connect route but the /api/* wildcard.
  const rules: EndpointRules = {
    paths: { 'api/': 'deny', 'api/v1:connect': 'allow', 'api/x@y': 'allow' },
    groups: { deny: { type: 'block' }, allow: { type: 'open', terminal: true } },
    settings: { diagnostics: true }
  }
  const twin = async (withRules: boolean) => {
    const { app } = await build(t, withRules ? { rules } : {})
    const ran: string[] = []
    app.get('/api/v1::connect', PUBLIC, async () => { ran.push('v1:connect'); return 'ok' })
    app.get('/api/x@y', PUBLIC, async () => { ran.push('x@y'); return 'ok' })
    app.get('/api/*', PUBLIC, async () => { ran.push('api/*'); return 'ok' })
    return { port: await listen(app), ran }
  }
  const open = await twin(false)
  for (const target of ['/api/v1%3Aconnect', '/api/v1%3aconnect', '/api/x%40y']) {
    open.ran.length = 0
    t.equal((await rawGet(open.port, target)).status, 200)
    t.same(open.ran, ['api/*'], `${target} reaches the wildcard`)
  }
  const s = await twin(true)
  t.equal((await rawGet(s.port, '/api/v1:connect')).status, 200, 'the terminal key opens its own route')
  t.equal((await rawGet(s.port, '/api/x@y')).status, 200)
  t.same(s.ran, ['v1:connect', 'x@y'])
  s.ran.length = 0
  for (const target of ['/api/v1%3Aconnect', '/api/v1%3aconnect', '/api/x%40y']) {
    const res = await rawGet(s.port, target)
    t.equal(res.status, 403, target)
    t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED')
  }
  t.same(s.ran, [], 'the /api/* handler never ran')
})

t.test('requests the HTTP parser itself refuses never reach a handler', async t => {
  const s = await server(t, RULES)
  for (const target of ['/admin/x\u0000', '/admin x']) {
    const res = await raw(s.port, `GET ${target} HTTP/1.1\r\nHost: localhost`).catch(() => null)
    if (res !== null) t.not(res.status, 200, JSON.stringify(target))
  }
  t.same(s.ran, [])
})
