// Behaviours 37-40 over HTTP: every matching key applies, longest first, the
// first failure denies, and a passing terminal rule skips less specific keys.
// A "remote" client is a socket bound to 127.0.0.2 (the server listens on
// 127.0.0.1), or a trusted proxy's X-Forwarded-For.
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { FastifyServerOptions } from 'fastify'
import type { EndpointRules } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { fixture } from '../fixtures/rules/helpers.js'
import { listen, request, type Response } from '../fixtures/tls/helpers.js'

const REMOTE = '127.0.0.2'

async function server (t: Test, rules: EndpointRules, fastifyOptions: FastifyServerOptions = {}) {
  const { app, as } = await build(t, { rules }, fastifyOptions)
  const ran: string[] = []
  const authenticated = { config: { permission: 'authenticated' as const } }
  const open = { config: { permission: 'public' as const } }
  for (const path of ['/admin/properties/list', '/admin/other', '/admin/sites/purge', '/admin/restore/db']) {
    app.get(path, authenticated, async (request) => { ran.push(path); return { level: request.accessLevel, ip: request.ip } })
  }
  app.get('/api', open, async () => { ran.push('/api'); return 'api' })
  app.get('/api/connect', open, async () => { ran.push('/api/connect'); return 'connect' })
  app.get('/api/*', open, async () => { ran.push('/api/*'); return 'wildcard' })
  const port = await listen(app)
  const get = (path: string, headers: Record<string, string> = {}, localAddress?: string) =>
    request({ port, path, headers, localAddress })
  return { get, ran, as }
}

function allowed (t: Test, res: Response, what: string): void {
  t.equal(res.status, 200, what)
}

function denied (t: Test, res: Response, where: { key?: string, group?: string, rule?: string }, what: string): void {
  t.equal(res.status, 403, `${what}: status`)
  t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED', `${what}: code`)
  const message = String(res.json()?.message)
  if (where.key !== undefined) t.match(message, `path '${where.key}'`, `${what}: key`)
  if (where.group !== undefined) t.match(message, `group '${where.group}'`, `${what}: group`)
  if (where.rule !== undefined) t.match(message, `rule '${where.rule}'`, `${what}: rule`)
}

const SECURITY_DETAILS: EndpointRules = {
  paths: { 'admin/': 'admin_only', 'admin/properties/list': 'allow_local_user' },
  groups: {
    admin_only: { type: 'userlevel', level: 'admin' },
    allow_local_user: { type: 'whitelist', list: ['127.0.0.1'], terminal: true }
  },
  settings: { diagnostics: true }
}

t.test('the securitydetails example: a passing terminal rule lets a local non-admin in (behaviour 39)', async t => {
  const s = await server(t, SECURITY_DETAILS)
  const reader = s.as('carol', { level: 'reader' })
  const res = await s.get('/admin/properties/list', reader)
  allowed(t, res, 'local reader')
  t.same(res.json(), { level: 'reader', ip: '127.0.0.1' })
  t.same(s.ran, ['/admin/properties/list'])
  s.ran.length = 0

  // The admin/ rule still guards the rest of the folder.
  denied(t, await s.get('/admin/other', reader), { key: 'admin/', group: 'admin_only', rule: 'userlevel' }, 'local reader elsewhere')
  allowed(t, await s.get('/admin/properties/list', s.as('root', { level: 'admin' })), 'local admin')
  t.same(s.ran, ['/admin/properties/list'])
})

t.test('the securitydetails example: a failing terminal rule denies a remote admin (behaviour 40)', async t => {
  const s = await server(t, SECURITY_DETAILS)
  const admin = s.as('root', { level: 'admin' })
  denied(t, await s.get('/admin/properties/list', admin, REMOTE),
    { key: 'admin/properties/list', group: 'allow_local_user', rule: 'whitelist' }, 'remote admin')
  t.same(s.ran, [], 'the handler did not run')
  // The same admin from the same address passes the less specific key.
  const other = await s.get('/admin/other', admin, REMOTE)
  allowed(t, other, 'remote admin elsewhere')
  t.equal(other.json().ip, REMOTE, 'the server saw the remote address')
  denied(t, await s.get('/admin/properties/list', s.as('carol', { level: 'reader' }), REMOTE),
    { key: 'admin/properties/list' }, 'remote reader')
})

t.test('the securitydetails example behind a trusted proxy (X-Forwarded-For)', async t => {
  const s = await server(t, SECURITY_DETAILS, { trustProxy: ['127.0.0.1'] })
  const admin = s.as('root', { level: 'admin' })
  const reader = s.as('carol', { level: 'reader' })
  denied(t, await s.get('/admin/properties/list', { ...admin, 'x-forwarded-for': '203.0.113.5' }),
    { key: 'admin/properties/list', group: 'allow_local_user' }, 'forwarded remote admin')
  allowed(t, await s.get('/admin/other', { ...admin, 'x-forwarded-for': '203.0.113.5' }), 'forwarded remote admin elsewhere')
  allowed(t, await s.get('/admin/properties/list', { ...reader, 'x-forwarded-for': '127.0.0.1' }), 'forwarded local reader')
  t.same(s.ran, ['/admin/other', '/admin/properties/list'])
})

t.test('without terminal, the folder rule applies too: the local reader is denied', async t => {
  const rules = structuredClone(SECURITY_DETAILS) as { groups: Record<string, Record<string, unknown>> }
  delete rules.groups.allow_local_user.terminal
  const s = await server(t, rules as unknown as EndpointRules)
  denied(t, await s.get('/admin/properties/list', s.as('carol', { level: 'reader' })),
    { key: 'admin/', group: 'admin_only', rule: 'userlevel' }, 'local reader')
  allowed(t, await s.get('/admin/properties/list', s.as('root', { level: 'admin' })), 'local admin')
  denied(t, await s.get('/admin/properties/list', s.as('root', { level: 'admin' }), REMOTE),
    { key: 'admin/properties/list' }, 'remote admin')
  t.same(s.ran, ['/admin/properties/list'])
})

t.test('the terminal page example: /api/ blocked, /api/connect open', async t => {
  const rules: EndpointRules = {
    paths: { '/api/': 'deny', '/api/connect': 'allow' },
    groups: { allow: { type: 'open', terminal: 1 }, deny: { type: 'block' } },
    settings: { diagnostics: true }
  }
  const s = await server(t, rules)
  allowed(t, await s.get('/api/connect'), '/api/connect')
  allowed(t, await s.get('/api/connect?x=1'), '/api/connect?x=1')
  for (const path of ['/api', '/api/', '/api/other', '/api/connect/', '/api/connect/x', '/api/connectx']) {
    denied(t, await s.get(path), { key: '/api/', group: 'deny', rule: 'block' }, path)
  }
  t.same(s.ran, ['/api/connect', '/api/connect'])

  const rules2 = structuredClone(rules) as { groups: Record<string, Record<string, unknown>> }
  delete rules2.groups.allow.terminal
  const plain = await server(t, rules2 as unknown as EndpointRules)
  denied(t, await plain.get('/api/connect'), { key: '/api/', group: 'deny' }, 'without terminal')
  t.same(plain.ran, [])
})

t.test('every matching key must pass, longest first (behaviours 37, 38), on the default rules file', async t => {
  const rules = JSON.parse(readFileSync(fixture('default.rules.json'), 'utf8')) as EndpointRules
  const s = await server(t, rules)
  const purge = '/admin/sites/purge'
  // admin/ needs level admin; admin/sites/purge needs user "admin" AND 127.0.0.1.
  allowed(t, await s.get(purge, s.as('admin', { level: 'admin' })), 'user admin, level admin, local')
  t.same(s.ran, [purge])
  s.ran.length = 0
  denied(t, await s.get(purge, s.as('admin', { level: 'reader' })),
    { key: 'admin/', group: 'admin', rule: 'userlevel' }, 'user admin at reader level: the exact key passed, the folder key failed')
  denied(t, await s.get(purge, s.as('bob', { level: 'superuser' })),
    { key: 'admin/sites/purge', group: 'localadmin', rule: 'isuser' }, 'another superuser')
  denied(t, await s.get(purge, s.as('admin', { level: 'admin' }), REMOTE),
    { key: 'admin/sites/purge', group: 'localadmin', rule: 'whitelist' }, 'user admin, remote')
  // Longest first, stop at the first failure: bob at reader level fails the
  // exact key's first rule, and the folder key is never reported.
  denied(t, await s.get(purge, s.as('bob', { level: 'reader' }), REMOTE),
    { key: 'admin/sites/purge', group: 'localadmin', rule: 'isuser' }, 'bob, reader, remote')
  denied(t, await s.get(purge), { key: 'admin/sites/purge', rule: 'isuser' }, 'anonymous')
  t.same(s.ran, [], 'no denied request ran the handler')

  // admin/restore/ is an OR: user admin, or a local client; plus admin/.
  const restore = '/admin/restore/db'
  allowed(t, await s.get(restore, s.as('admin', { level: 'admin' }), REMOTE), 'user admin from anywhere')
  allowed(t, await s.get(restore, s.as('bob', { level: 'admin' })), 'any admin-level user, locally')
  denied(t, await s.get(restore, s.as('bob', { level: 'admin' }), REMOTE),
    { key: 'admin/restore/', group: 'restricted' }, 'another admin, remote')
  denied(t, await s.get(restore, s.as('bob', { level: 'creator' })), { key: 'admin/', group: 'admin' }, 'local creator')
  t.same(s.ran, [restore, restore])
})
