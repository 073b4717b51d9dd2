import t from 'tap'
import { build } from '../helper.js'

t.test('hideForbidden: a forbidden resource answers exactly like a missing one', async (t) => {
  const { app, as } = await build(t, { hideForbidden: true })
  const existing = new Set(['1', '2'])
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => {
    const { id } = request.params as { id: string }
    // The host answers a missing resource with the plugin's own not-found error.
    if (!existing.has(id)) throw app.permissions.notFound()
    return { id }
  })
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '3', privilege: 'read' })

  const allowed = await app.inject({ url: '/d/1', headers: as('alice') })
  const forbidden = await app.inject({ url: '/d/2', headers: as('alice') })
  const missingGranted = await app.inject({ url: '/d/3', headers: as('alice') })
  const missing = await app.inject({ url: '/d/4', headers: as('alice') })
  t.equal(allowed.statusCode, 200)
  for (const res of [forbidden, missingGranted, missing]) {
    t.equal(res.statusCode, 404)
    t.equal(res.body, missing.body, 'identical bodies')
    t.equal(res.headers['content-type'], missing.headers['content-type'])
    t.equal(res.headers['content-length'], missing.headers['content-length'])
  }
  t.same(missing.json(), { statusCode: 404, code: 'FST_DEFAULT_DENY_NOT_FOUND', error: 'Not Found', message: 'Not Found' })
})

t.test('without hideForbidden a forbidden resource is 403', async (t) => {
  const { app, as } = await build(t)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  const res = await app.inject({ url: '/d/2', headers: as('alice') })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
})
