// Two instances of the app on one database, each with its decision cache: a
// change made through one (or in plain SQL) reaches the other through the
// database's notification, and the other never serves the old answer after it.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import defaultDeny from '../../lib/index.js'
import { SECRET, testDatabase } from '../helper.js'
import { cacheOn, eventually } from '../cache-helper.js'

const alice = { kind: 'user', id: 'alice' } as const

async function instance (t: Parameters<typeof testDatabase>[0], db: Awaited<ReturnType<typeof testDatabase>>['db'], schema: string) {
  const app = Fastify()
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema, ...cacheOn() })
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  t.teardown(async () => { await app.close() })
  await app.ready()
  const token = app.jwt.sign({ sub: 'alice' })
  const get = async (url: string) => (await app.inject({ url, headers: { authorization: `Bearer ${token}` } })).statusCode
  const stats = () => app.permissions.cacheStats() as NonNullable<ReturnType<typeof app.permissions.cacheStats>>
  return { app, get, stats }
}

t.test('a revoke on one instance reaches the other once notified, and only stale answers before it', async (t) => {
  const { db, schema } = await testDatabase(t)
  const a = await instance(t, db, schema)
  const b = await instance(t, db, schema)
  const heard = b.stats().invalidations
  await a.app.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  await eventually(() => b.stats().invalidations > heard)
  t.equal(await b.get('/d/1'), 200)
  t.equal(await b.get('/d/1'), 200)
  t.ok(b.stats().hits >= 1, 'b answers from its cache')

  const before = b.stats().invalidations
  await a.app.permissions.revoke({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  await eventually(() => b.stats().invalidations > before)
  t.equal(await b.get('/d/1'), 403, 'b denies once the notification is in')
  t.equal(await b.get('/d/1'), 403)
  t.equal(await a.get('/d/1'), 403, 'a denied at once')
})

t.test('many revokes in a row: after each notification the other instance never allows', async (t) => {
  const { db, schema } = await testDatabase(t)
  const a = await instance(t, db, schema)
  const b = await instance(t, db, schema)
  let stale = 0
  for (let i = 0; i < 25; i++) {
    const id = String(i)
    let heard = b.stats().invalidations
    await a.app.permissions.grant({ grantee: alice, resource: 'document', id, privilege: 'read' })
    await eventually(() => b.stats().invalidations > heard)
    t.equal(await b.get(`/d/${id}`), 200)
    heard = b.stats().invalidations
    await a.app.permissions.revoke({ grantee: alice, resource: 'document', id, privilege: 'read' })
    await eventually(() => b.stats().invalidations > heard)
    if (await b.get(`/d/${id}`) !== 403) stale++
  }
  t.equal(stale, 0, 'no allow after a revoke was heard')
})
