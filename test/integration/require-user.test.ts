// requireUser(request): the signed-in user on routes that have one, the
// plugin's 401 (and the handler goes no further) anywhere else.
import t from 'tap'
import { requireUser } from '../../lib/index.js'
import { build } from '../helper.js'

t.test('requireUser gives the user on authenticated and resource routes, 401 where there is none', async (t) => {
  const { app, as } = await build(t, { anonymousPrivileges: ['read'] })
  let after = 0
  const handler = async (request: Parameters<typeof requireUser>[0]) => {
    const user = requireUser(request)
    after++
    return { id: user.id, kind: user.kind }
  }
  app.get('/me', { config: { permission: 'authenticated' } }, handler)
  app.get('/open', { config: { permission: 'public' } }, handler)
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, handler)
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: 'd1', privilege: 'read' })

  const me = await app.inject({ url: '/me', headers: as('alice') })
  t.same([me.statusCode, me.json()], [200, { id: 'alice', kind: 'user' }])
  const doc = await app.inject({ url: '/d/d1', headers: as('bob') })
  t.same([doc.statusCode, doc.json()], [200, { id: 'bob', kind: 'user' }])
  t.equal(after, 2)

  // A public route carries no principal, even with a token; an anonymous
  // request allowed by a grant to everyone has no user either.
  for (const [url, headers] of [['/open', as('alice')], ['/open', {}], ['/d/d1', {}]] as const) {
    const res = await app.inject({ url, headers })
    t.equal(res.statusCode, 401, `${url} ${Object.keys(headers).length > 0 ? 'with' : 'without'} a token`)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_UNAUTHORIZED')
  }
  t.equal(after, 2, 'the handler went no further than requireUser')
})
