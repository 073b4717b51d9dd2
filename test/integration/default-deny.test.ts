import t from 'tap'
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import defaultDeny from '../../lib/index.js'
import { build, SECRET, testDatabase } from '../helper.js'

t.test('a route without an annotation is denied and its handler never runs', async (t) => {
  const { app, as } = await build(t)
  let ran = 0
  app.get('/plain', async () => { ran++; return { ok: true } })
  app.post('/plain', async () => { ran++; return { ok: true } })

  for (const headers of [{}, as('alice'), as('root', { superuser: true })]) {
    const res = await app.inject({ method: 'GET', url: '/plain', headers })
    t.equal(res.statusCode, 403)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
  }
  const head = await app.inject({ method: 'HEAD', url: '/plain' })
  t.equal(head.statusCode, 403, 'the automatic HEAD route is denied too')
  t.equal(ran, 0)
})

t.test('routes in child and sibling scopes are denied without an annotation', async (t) => {
  const { app } = await build(t)
  let ran = 0
  await app.register(async (child) => {
    child.get('/child', async () => { ran++; return 'x' })
    await child.register(async (grandchild) => {
      grandchild.get('/grandchild', async () => { ran++; return 'x' })
    })
  }, { prefix: '/scoped' })
  for (const url of ['/scoped/child', '/scoped/grandchild']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 403, url)
  }
  t.equal(ran, 0)
})

t.test('a route registered before the plugin is denied, even with a valid annotation', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  let ran = 0
  app.get('/early', { config: { permission: 'public' } }, async () => { ran++; return 'x' })
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema })
  app.get('/late', { config: { permission: 'public' } }, async () => 'late')

  const early = await app.inject({ url: '/early' })
  t.equal(early.statusCode, 403)
  t.equal(early.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
  t.equal(ran, 0)
  t.equal((await app.inject({ url: '/late' })).statusCode, 200)
})

t.test('the not-found handler keeps answering 404', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/nowhere' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().error, 'Not Found')
})

t.test('a denied request body is never parsed', async (t) => {
  const { app } = await build(t)
  let parsed = 0
  app.addContentTypeParser('application/x-probe', async () => { parsed++; return {} })
  app.post('/documents/:id', { config: { permission: { resource: 'document', privilege: 'edit' } } }, async () => 'x')
  const res = await app.inject({
    method: 'POST', url: '/documents/1', headers: { 'content-type': 'application/x-probe' }, payload: 'x'
  })
  t.equal(res.statusCode, 403)
  t.equal(parsed, 0)
})

t.test('a public route and an authenticated route', async (t) => {
  const { app, as } = await build(t)
  app.get('/health', { config: { permission: 'public' } }, async (request) => ({ principal: request.principal }))
  app.get('/me', { config: { permission: 'authenticated' } }, async (request) => ({ id: request.principal?.id }))

  const health = await app.inject({ url: '/health', headers: { authorization: 'Bearer garbage' } })
  t.equal(health.statusCode, 200, 'public routes do not look at credentials')
  t.same(health.json(), { principal: null })

  const anonymous = await app.inject({ url: '/me' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'FST_DEFAULT_DENY_UNAUTHORIZED')
  const me = await app.inject({ url: '/me', headers: as('alice') })
  t.equal(me.statusCode, 200)
  t.same(me.json(), { id: 'alice' })
})
