// A change of a grant's schedule alone reaches the decision cache: an answer
// cached before it is not served after it.
import t from 'tap'
import { build } from '../helper.js'
import { cacheOn, eventually } from '../cache-helper.js'

t.test('moving a grant\'s start into the future drops the cached allow, and moving it back drops the deny', async (t) => {
  const { app, as } = await build(t, cacheOn())
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  const stats = () => app.permissions.cacheStats() as NonNullable<ReturnType<typeof app.permissions.cacheStats>>
  await eventually(() => stats().on)
  // Presenting a change's revision waits until its notification has been applied
  // (on PostgreSQL it arrives after the write returns): what is cached then stays.
  const get = async (revision?: string | null) => (await app.inject({
    url: '/d/d1', headers: { ...as('alice'), ...(typeof revision === 'string' ? { 'default-deny-revision': revision } : {}) }
  })).statusCode
  const grant = { resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'alice' }, privilege: 'read' } as const
  const granted = await app.permissions.grant(grant)
  t.equal(await get(granted.revision), 200)
  const hits = stats().hits
  t.equal(await get(), 200)
  t.equal(stats().hits, hits + 1, 'the allow is cached')
  const later = await app.permissions.grant({ ...grant, startsAt: new Date(Date.now() + 86_400_000) })
  t.match(later, { created: false, changed: true })
  t.equal(await get(), 403, 'not served from the cache once the start moved')
  t.equal(await get(), 403)
  await app.permissions.grant(grant)
  t.equal(await get(), 200, 'nor the deny once it moved back')
})
