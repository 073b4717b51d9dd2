import t from 'tap'
import { build } from '../helper.js'

t.test('a malformed annotation is thrown by the route registration itself, naming the route', async (t) => {
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['unknown privilege', '/d/:id', { resource: 'document', privilege: 'write' }, /privilege must be one of: read, edit, delete/],
    ['missing resource', '/d/:id', { privilege: 'read' }, /resource must be a non-empty string/],
    ['empty resource', '/d/:id', { resource: '', privilege: 'read' }, /resource/],
    ['missing privilege', '/d/:id', { resource: 'document' }, /privilege/],
    ['unknown key', '/d/:id', { resource: 'document', privilege: 'read', public: true }, /unknown permission key 'public'/],
    ['no :id param', '/d/:docId', { resource: 'document', privilege: 'read' }, /no ':id' parameter/],
    ['named param missing', '/d/:id', { resource: 'document', privilege: 'read', param: 'docId' }, /no ':docId' parameter/],
    ['param and id', '/d/:id', { resource: 'document', privilege: 'read', param: 'id', id: false }, /exclusive/],
    ['id true', '/d/:id', { resource: 'document', privilege: 'read', id: true }, /id must be false or a function/],
    ['unknown keyword', '/d', 'private', /permission must be/],
    ['boolean', '/d', false, /permission must be/],
    ['array', '/d', ['read'], /permission must be/],
    ['null', '/d', null, /permission must be/]
  ]
  for (const [name, url, permission, message] of cases) {
    await t.test(name, async (t) => {
      const { app } = await build(t)
      t.throws(() => app.get(url, { config: { permission: permission as never } }, async () => 'x'),
        { code: 'FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG', message })
    })
  }
})

t.test('inside a plugin, the same error makes register() and ready() reject, and the app never serves', async (t) => {
  const { app } = await build(t)
  let ran = false
  const routes = async (instance: typeof app) => {
    instance.get('/fine', { config: { permission: 'public' } }, async () => { ran = true; return 'x' })
    instance.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'write' as never } } }, async () => 'x')
  }
  await t.rejects(async () => { await app.register(routes) }, { code: 'FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG', message: /route 'GET \/d\/:id'/ })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG' })
  await t.rejects(async () => { await app.listen({ port: 0, host: '127.0.0.1' }) })
  t.notOk(ran, 'no handler ran')
})

t.test('a custom privilege list is what annotations are checked against', async (t) => {
  const { app, as } = await build(t, { privileges: ['read', 'publish'] })
  app.post('/d/:id/publish', { config: { permission: { resource: 'document', privilege: 'publish' as never } } }, async () => 'published')
  t.throws(() => app.put('/d/:id', { config: { permission: { resource: 'document', privilege: 'edit' } } }, async () => 'x'),
    { code: 'FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG' })
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'publish' as never })
  t.equal((await app.inject({ method: 'POST', url: '/d/1/publish', headers: as('alice') })).statusCode, 200)
})

t.test('a route with several methods and the automatic HEAD route share the requirement', async (t) => {
  const { app, as } = await build(t)
  app.route({
    method: ['GET', 'POST'],
    url: '/d/:id',
    config: { permission: { resource: 'document', privilege: 'read' } },
    handler: async () => 'ok'
  })
  await app.ready()
  for (const method of ['GET', 'POST', 'HEAD'] as const) {
    t.equal((await app.inject({ method, url: '/d/1', headers: as('alice') })).statusCode, 403, method)
  }
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })
  for (const method of ['GET', 'POST', 'HEAD'] as const) {
    t.equal((await app.inject({ method, url: '/d/1', headers: as('alice') })).statusCode, 200, method)
  }
})
