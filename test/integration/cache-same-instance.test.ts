// The decision cache on one instance: a hit answers without the database, and
// no answer survives a change acknowledged here, a change made in plain SQL
// (once its notification arrives), or a scheduled start or expiry.
import t from 'tap'
import { sql } from 'kysely'
import { build, usingPostgres } from '../helper.js'
import { cacheOn, eventually } from '../cache-helper.js'

const alice = { kind: 'user', id: 'alice' } as const

async function app (t: Parameters<typeof build>[0]) {
  const built = await build(t, { ...cacheOn(), superuserClaim: 'su' })
  let ran = 0
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  built.app.get('/n/:id', { config: { permission: { resource: 'note', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await built.app.ready()
  const get = async (url: string, sub = 'alice') => (await built.app.inject({ url, headers: built.as(sub) })).statusCode
  const stats = () => built.app.permissions.cacheStats() as NonNullable<ReturnType<typeof built.app.permissions.cacheStats>>
  // A write through the service is applied here at once and heard again from
  // the database: after both, what a test measures is not disturbed by the echo.
  const write = async (change: () => Promise<unknown>) => {
    const heard = stats().invalidations
    await change()
    await eventually(() => stats().invalidations >= heard + 2)
  }
  return { ...built, get, stats, write, ran: () => ran }
}

t.test('a repeated request is answered from the cache', async (t) => {
  const { app: fastify, get, stats, write, ran } = await app(t)
  t.equal(stats().on, true, 'the feed listens once ready')
  await write(() => fastify.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' }))
  t.equal(await get('/d/1'), 200)
  const before = stats()
  t.equal(await get('/d/1'), 200)
  t.equal(stats().hits, before.hits + 1, 'the second was a hit')
  t.equal(ran(), 2)
  t.equal(await get('/d/2'), 403)
  t.equal(await get('/d/2'), 403, 'denials are cached too')
  t.equal(stats().hits, before.hits + 2)
  t.equal(stats().misses, before.misses + 1, 'one miss counted once, by the route check and by check()')
  const principal = { kind: 'user' as const, id: 'alice', groups: [], superuser: false, claims: {} }
  t.equal(await fastify.permissions.check(principal, { resource: 'document', id: '3', privilege: 'read' }), false)
  t.equal(await fastify.permissions.check(principal, { resource: 'document', id: '3', privilege: 'read' }), false)
  t.same([stats().hits, stats().misses], [before.hits + 3, before.misses + 2])
})

t.test('a revoke acknowledged here is never followed by a cached allow', async (t) => {
  const { app: fastify, get, ran } = await app(t)
  await fastify.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/1'), 200)
  await fastify.permissions.revoke({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  const handled = ran()
  t.equal(await get('/d/1'), 403, 'denied on the very next request')
  t.equal(ran(), handled, 'handler not run')
  await fastify.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await get('/d/1'), 200, 'and a grant counts at once')
})

t.test('a change in plain SQL reaches the cache through its notification', async (t) => {
  const { app: fastify, db, schema, get, stats } = await app(t)
  await fastify.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/1'), 200)
  const heard = stats().invalidations
  await sql`delete from ${sql.id(schema, 'default_deny_grant')} where resource_id = '1'`.execute(db)
  await eventually(() => stats().invalidations > heard)
  t.equal(await get('/d/1'), 403)
  await sql`insert into ${sql.id(schema, 'default_deny_resource')} (resource_type, resource_id, owner_id) values ('document', '1', 'alice')`.execute(db)
  await eventually(async () => await get('/d/1') === 200)
  t.pass('an owner set in SQL counts once heard')
})

t.test('an answer lives no longer than the next start or expiry behind it', async (t) => {
  const { app: fastify, get, stats, write } = await app(t)
  await write(() => fastify.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read', expiresAt: new Date(Date.now() + 1500) }))
  await write(() => fastify.permissions.grant({ grantee: alice, resource: 'document', id: '2', privilege: 'read', startsAt: new Date(Date.now() + 1500) }))
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/2'), 403)
  const hits = stats().hits
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/2'), 403)
  t.equal(stats().hits, hits + 2, 'both cached meanwhile')
  // A real wait: the start and expiry are judged by the database's clock
  // (now() in the query that tells the cache how long an answer may live),
  // which no fake timer here moves; moving the rows instead would send the
  // notification that drops the answers for another reason than their age.
  await new Promise((resolve) => setTimeout(resolve, 1600))
  t.equal(await get('/d/1'), 403, 'expired: not served from the cache')
  t.equal(await get('/d/2'), 200, 'started: not served from the cache')
})

t.test('a type-level change drops that type only', async (t) => {
  const { app: fastify, get, stats, write } = await app(t)
  await write(() => fastify.permissions.grant({ grantee: alice, resource: 'note', id: '1', privilege: 'read' }))
  t.equal(await get('/d/1'), 403)
  t.equal(await get('/n/1'), 200)
  await write(() => fastify.permissions.grant({ grantee: alice, resource: 'document', id: null, privilege: 'read' }))
  const hits = stats().hits
  t.equal(await get('/d/1'), 200, 'the document answer was dropped')
  t.equal(await get('/n/1'), 200)
  t.equal(stats().hits, hits + 1, 'the note answer was kept')
})

t.test('a membership change reaches the principals below it', async (t) => {
  const { app: fastify, db, schema, get, stats } = await app(t)
  await fastify.permissions.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: '1', privilege: 'read' })
  await fastify.permissions.addMember({ group: 'staff', member: { kind: 'group', id: 'editors' } })
  await fastify.permissions.addMember({ group: 'editors', member: alice })
  t.equal(await get('/d/1'), 200)
  t.equal(await get('/d/1', 'bob'), 403)
  await fastify.permissions.removeMember({ group: 'editors', member: alice })
  t.equal(await get('/d/1'), 403, 'removed here: denied at once')
  const heard = stats().invalidations
  await sql`insert into ${sql.id(schema, 'default_deny_membership')} (group_id, member_kind, member_id) values ('editors', 'user', 'bob')`.execute(db)
  await eventually(() => stats().invalidations > heard)
  t.equal(await get('/d/1', 'bob'), 200, 'added in SQL: allowed once heard')
  t.equal(await get('/d/1', 'bob'), 200)
  const again = stats().invalidations
  await sql`delete from ${sql.id(schema, 'default_deny_membership')} where group_id = 'staff'`.execute(db)
  await eventually(() => stats().invalidations > again)
  t.equal(await get('/d/1', 'bob'), 403, 'a group two levels up removed in SQL: bob is reached')
})

t.test('superusers are never cached, and the cache is off by default', async (t) => {
  const { app: fastify, get, stats } = await app(t)
  const before = stats()
  t.equal((await fastify.inject({ url: '/d/9', headers: { authorization: `Bearer ${fastify.jwt.sign({ sub: 'root', su: true })}` } })).statusCode, 200)
  t.equal(await get('/d/9'), 403)
  t.equal(stats().stores, before.stores + 1)
  const plain = await build(t)
  t.equal(plain.app.permissions.cacheStats(), null)
})

t.test('with a db of its own on PostgreSQL the cache must be told where to listen; PGlite needs nothing', async (t) => {
  if (usingPostgres) {
    await t.rejects(build(t, { cache: true }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /'cache.listenConnectionString' is required/ })
  } else {
    const { app: fastify } = await build(t, { cache: true })
    t.equal(fastify.permissions.cacheStats()?.on, true)
  }
})
