// Behaviours 53-56 and 59 over HTTP: a request must pass both layers. Rules
// only refuse; elevate never replaces a grant; a demote to reader refuses
// edit and delete even to grant holders and superusers. Runs on PGlite and,
// with DATABASE_URL, on PostgreSQL.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import jwt from '@fastify/jwt'
import defaultDeny from '../../lib/index.js'
import type { EndpointRules, FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import { build, SECRET, testDatabase } from '../helper.js'
import { listen, makePki, request } from '../fixtures/tls/helpers.js'

type Privilege = 'read' | 'edit' | 'delete'
const ALL: Privilege[] = ['read', 'edit', 'delete']
const METHOD: Record<Privilege, string> = { read: 'GET', edit: 'PUT', delete: 'DELETE' }

async function server (t: Test, rules: EndpointRules | undefined, options: Partial<FastifyDefaultDenyOptions> = {}, fastifyOptions: FastifyServerOptions = {}) {
  const { app, as } = await build(t, { superuserClaim: 'admin', ...(rules === undefined ? {} : { rules }), ...options }, fastifyOptions)
  const ran: string[] = []
  for (const privilege of ALL) {
    app.route({
      method: METHOD[privilege] as 'GET',
      url: '/docs/:id',
      config: { permission: { resource: 'doc', privilege } },
      handler: async (request) => {
        ran.push(`${privilege} ${(request.params as { id: string }).id}`)
        return { accessLevel: request.accessLevel }
      }
    })
  }
  app.get('/unannotated', async () => { ran.push('unannotated'); return 'x' })
  app.get('/public', { config: { permission: 'public' } }, async (request) => ({ accessLevel: request.accessLevel }))
  const grant = (user: string, id: string, privileges: Privilege[] = ALL) => Promise.all(privileges.map(privilege =>
    app.permissions.grant({ grantee: { kind: 'user', id: user }, resource: 'doc', id, privilege })))
  const call = (app: FastifyInstance) => async (privilege: Privilege, id: string, headers: Record<string, string> = {}) =>
    await app.inject({ method: METHOD[privilege] as 'GET', url: `/docs/${id}`, headers })
  return { app, as, ran, grant, call: call(app) }
}

const OPEN: EndpointRules = { paths: { 'docs/': 'open', 'unannotated': 'stop' }, groups: { open: { type: 'open' }, stop: { type: 'open', terminal: true } } }
const SSL_REQUIRED: EndpointRules = {
  paths: { 'docs/': 'sslrequired' },
  groups: { sslrequired: [[{ type: 'open', secure: 1 }], [{ type: 'open', demote: 'reader' }]] }
}

t.test('a passing rule does not open a resource route without a grant (behaviour 56)', async t => {
  const s = await server(t, OPEN)
  const alice = s.as('alice', { level: 'admin' })
  for (const privilege of ALL) {
    const res = await s.call(privilege, '1', alice)
    t.equal(res.statusCode, 403, `${privilege} without a grant`)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_FORBIDDEN', 'refused by the grants layer')
    const anonymous = await s.call(privilege, '1')
    t.equal(anonymous.statusCode, 403, `${privilege} anonymously`)
  }
  // A passing terminal open rule does not open a route without an annotation (behaviour 59).
  const unannotated = await s.app.inject({ url: '/unannotated', headers: alice })
  t.equal(unannotated.statusCode, 403)
  t.equal(unannotated.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
  t.same(s.ran, [], 'no handler ran')

  await s.grant('alice', '1', ['read'])
  t.equal((await s.call('read', '1', alice)).statusCode, 200, 'with the grant')
  t.equal((await s.call('read', '2', alice)).statusCode, 403, 'a grant on another resource does not count')
  t.equal((await s.call('edit', '1', alice)).statusCode, 403, 'read does not give edit')
  t.same(s.ran, ['read 1'])
})

t.test('elevate: "builder" never bypasses grants (behaviour 56)', async t => {
  const s = await server(t, {
    paths: { 'docs/': 'hook' },
    groups: { hook: { type: 'whitelist', list: ['127.0.0.1'], elevate: 'builder' } }
  })
  const bob = s.as('bob', { level: 'reader' })
  for (const privilege of ALL) {
    for (const headers of [bob, {}]) {
      const res = await s.call(privilege, '1', headers)
      t.equal(res.statusCode, 403, `${privilege}, elevated, without a grant`)
      t.equal(res.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
    }
  }
  t.same(s.ran, [])
  await s.grant('bob', '1', ['read'])
  const read = await s.call('read', '1', bob)
  t.equal(read.statusCode, 200)
  t.same(read.json(), { accessLevel: 'builder' }, 'elevated from reader to builder')
  t.equal((await s.call('edit', '1', bob)).statusCode, 403, 'the elevated level is no edit grant')
  t.same(s.ran, ['read 1'])
})

t.test('a demote to reader refuses edit and delete to grant holders and superusers (behaviour 54)', async t => {
  // Control: without rules, both may do everything.
  const plain = await server(t, undefined)
  await plain.grant('carol', '1')
  for (const privilege of ALL) {
    t.equal((await plain.call(privilege, '1', plain.as('carol', { level: 'admin' }))).statusCode, 200, `no rules: carol may ${privilege}`)
    t.equal((await plain.call(privilege, '1', plain.as('root', { admin: true }))).statusCode, 200, `no rules: superuser may ${privilege}`)
  }

  // The secure example over plain HTTP (inject): callers get in, demoted to reader.
  const s = await server(t, SSL_REQUIRED)
  await s.grant('carol', '1')
  for (const headers of [s.as('carol', { level: 'admin' }), s.as('root', { admin: true, level: 'superuser' }), s.as('root', { admin: true })]) {
    const read = await s.call('read', '1', headers)
    t.equal(read.statusCode, 200, 'read passes')
    t.same(read.json(), { accessLevel: 'reader' })
    for (const privilege of ['edit', 'delete'] as const) {
      const res = await s.call(privilege, '1', headers)
      t.equal(res.statusCode, 403, `${privilege} is refused`)
      t.equal(res.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
    }
  }
  t.same(s.ran, ['read 1', 'read 1', 'read 1'], 'no edit or delete handler ran')
  // With hideForbidden the refusal looks like a missing resource, as grants do.
  const hidden = await server(t, SSL_REQUIRED, { hideForbidden: true })
  await hidden.grant('carol', '1')
  t.equal((await hidden.call('edit', '1', hidden.as('carol'))).statusCode, 404)
})

t.test('a demoted reader still needs its read grant; implies still applies', async t => {
  const s = await server(t, SSL_REQUIRED, { implies: { edit: ['read'] } })
  const dan = s.as('dan', { level: 'admin' })
  t.equal((await s.call('read', '1', dan)).statusCode, 403, 'no grant')
  await s.grant('dan', '1', ['edit'])
  t.equal((await s.call('read', '1', dan)).statusCode, 200, 'edit implies read')
  t.equal((await s.call('edit', '1', dan)).statusCode, 403, 'but the reader may not edit')
  t.same(s.ran, ['read 1'])
})

t.test('elevate and demote together: demote wins (behaviour 55)', async t => {
  const s = await server(t, {
    paths: { 'docs/': 'up', 'docs/1': 'down', 'docs/3': 'both' },
    groups: {
      up: { type: 'open', elevate: 'creator' },
      down: { type: 'open', demote: 'reader' },
      both: { type: 'open', elevate: 'builder', demote: 'reader' }
    }
  })
  const erin = s.as('erin', { level: 'builder' })
  for (const id of ['1', '2', '3']) await s.grant('erin', id)
  for (const id of ['1', '3']) {
    const read = await s.call('read', id, erin)
    t.equal(read.statusCode, 200)
    t.same(read.json(), { accessLevel: 'reader' }, `/docs/${id}: elevated and demoted → reader`)
    t.equal((await s.call('edit', id, erin)).statusCode, 403, `/docs/${id}: edit refused`)
  }
  const other = await s.call('edit', '2', erin)
  t.equal(other.statusCode, 200, '/docs/2 is only elevated')
  t.same(other.json(), { accessLevel: 'creator' })
  t.same(s.ran, ['read 1', 'read 3', 'edit 2'])
})

t.test('request.accessLevel', async t => {
  const plain = await server(t, undefined)
  t.same((await plain.app.inject({ url: '/public', headers: plain.as('x', { level: 'admin' }) })).json(), { accessLevel: null }, 'null without rules')

  const s = await server(t, { paths: { 'public': 'down' }, groups: { down: { type: 'open', demote: 'reader' } } })
  const level = async (headers: Record<string, string>, url = '/docs/1') => {
    const res = await s.app.inject({ url, headers })
    return res.statusCode === 200 ? res.json().accessLevel : `status ${res.statusCode}`
  }
  await s.grant('fay', '1', ['read'])
  t.equal(await level(s.as('fay', { level: 'creator' })), 'creator', 'the level claim')
  t.equal(await level(s.as('fay', { level: 'editor' })), 'builder', 'an alias, canonicalised')
  t.equal(await level(s.as('fay', { level: 'wizard' })), null, 'an unknown level is no level')
  t.equal(await level(s.as('fay')), null, 'no level claim')
  t.equal(await level({}, '/public'), 'reader', 'a demote caps callers without a level too')
  t.equal(await level(s.as('fay', { level: 'admin' }), '/public'), 'reader')
})

t.test('levelPrivileges caps every level it lists', async t => {
  const s = await server(t, {
    paths: { 'docs/': 'hook' },
    groups: { hook: { type: 'open', elevate: 'builder' } }
  }, { levelPrivileges: { reader: ['read'], builder: ['read', 'edit'] } })
  const gus = s.as('gus', { level: 'reader' })
  await s.grant('gus', '1')
  t.equal((await s.call('edit', '1', gus)).statusCode, 200, 'builder may edit')
  t.equal((await s.call('delete', '1', gus)).statusCode, 403, 'builder may not delete, grant or not')
  t.equal((await s.call('delete', '1', s.as('gus', { level: 'creator' }))).statusCode, 200, 'an unlisted level is not capped')
  t.same(s.ran, ['edit 1', 'delete 1'])
})

t.test('the secure example over HTTPS: HTTPS callers keep their level (spec §1.6)', async t => {
  // "HTTPS callers keep their normal level; plain-HTTP callers still get in
  // but are demoted to reader": the least restricted passing alternative wins.
  const https = makePki(t).server
  const s = await server(t, SSL_REQUIRED, {}, { https } as unknown as FastifyServerOptions)
  await s.grant('carol', '1')
  const port = await listen(s.app)
  const headers = s.as('carol', { level: 'admin' })
  const read = await request({ port, path: '/docs/1', headers, https: true })
  t.equal(read.status, 200, 'read over HTTPS')
  t.same(read.json(), { accessLevel: 'admin' }, 'keeps its level')
  const edit = await request({ port, path: '/docs/1', method: 'PUT', headers, https: true })
  t.equal(edit.status, 200, 'edit over HTTPS')
  const remove = await request({ port, path: '/docs/1', method: 'DELETE', headers: s.as('root', { admin: true }), https: true })
  t.equal(remove.status, 200, 'a superuser deletes over HTTPS')
  t.same(s.ran, ['read 1', 'edit 1', 'delete 1'])
})

t.test('on a public route, the rules see a token wherever @fastify/jwt finds it', async t => {
  // The rules resolve the principal of a public route only for themselves;
  // a request without an Authorization header may still carry a token that
  // @fastify/jwt extracts elsewhere.
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'], extractToken: (request) => request.headers['x-token'] as string | undefined } })
  await app.register(defaultDeny, { db, schema, rules: { paths: { 'p/': 'builders' }, groups: { builders: { type: 'userlevel', level: 'builder' } } } })
  let ran = 0
  app.get('/p/x', { config: { permission: 'public' } }, async (request) => { ran++; return { accessLevel: request.accessLevel } })
  const res = await app.inject({ url: '/p/x', headers: { 'x-token': app.jwt.sign({ sub: 'hal', level: 'creator' }) } })
  t.equal(res.statusCode, 200, 'the level in the extracted token counts')
  t.same(res.json(), { accessLevel: 'creator' })
  t.equal((await app.inject({ url: '/p/x', headers: { 'x-token': app.jwt.sign({ sub: 'hal', level: 'reader' }) } })).statusCode, 403)
  t.equal((await app.inject({ url: '/p/x' })).statusCode, 403, 'no token: anonymous, no level')
  t.equal(ran, 1)
})

t.test('on a public route without a token the rules judge an anonymous caller', async t => {
  const s = await server(t, { paths: { 'public': 'g' }, groups: { g: [[{ type: 'userlevel', level: 'reader' }], [{ type: 'isuser', list: ['x'], deny: true, demote: 'reader' }]] } })
  const anonymous = await s.app.inject({ url: '/public' })
  t.equal(anonymous.statusCode, 200, 'through the deny list')
  t.same(anonymous.json(), { accessLevel: 'reader' })
  const broken = await s.app.inject({ url: '/public', headers: { authorization: 'Bearer broken' } })
  t.equal(broken.statusCode, 200, 'a broken token counts as no one, never a 401')
  t.same(broken.json(), { accessLevel: 'reader' })
  const user = await s.app.inject({ url: '/public', headers: s.as('y', { level: 'admin' }) })
  t.equal(user.statusCode, 200, 'a user with a level passes both alternatives')
  t.same(user.json(), { accessLevel: 'admin' }, 'and the undemoted one wins')
  const listed = await s.app.inject({ url: '/public', headers: s.as('x', { level: 'admin' }) })
  t.same(listed.json(), { accessLevel: 'admin' }, 'a listed user passes the first alternative only')
  const levelless = await s.app.inject({ url: '/public', headers: s.as('y') })
  t.same(levelless.json(), { accessLevel: 'reader' }, 'a user without a level passes only the demoting alternative')
})
