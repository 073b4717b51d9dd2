// Read replicas, on a real hot standby of the test server (started for this
// file with pg_basebackup, see replica-helper.ts): checks read from the
// standby while it is fresh enough; a revision is answered as of its change
// (by the standby once it has replayed it, otherwise by the primary); a
// standby further behind than maxLag is not read; one that is down, or not
// a standby at all, costs nothing but its warning; the decision cache never
// stores what a standby said.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import tap from 'tap'
import defaultDeny from '../../lib/index.js'
import { REVISION_HEADER } from '../../lib/revision.js'
import type { Principal } from '../../fastify-plugin.js'
import { logCapture, readyWith, SECRET, testDatabase, usingPostgres } from '../helper.js'
import { cacheOn, eventually } from '../cache-helper.js'
import { startStandby, type Standby } from '../replica-helper.js'

const alice = { kind: 'user', id: 'alice' } as const
const principal: Principal = { kind: 'user', id: 'alice', groups: [], superuser: false, claims: {} }
const needsPostgres = !usingPostgres && 'needs PostgreSQL: a streaming standby of the test server'
type Teardown = Parameters<typeof testDatabase>[0]

// One standby serves the file; each test has its own schema on the primary, replicated like the rest.
let standby: Standby | undefined
const standbyOnce = async (): Promise<Standby> => (standby ??= await startStandby(tap))

async function app (t: Teardown, replicas: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const { db, schema } = await testDatabase(t)
  const log = logCapture('warn')
  const server = Fastify({ logger: log.logger })
  await server.register(jwt, { secret: SECRET })
  await server.register(defaultDeny, { db, schema, replicas: { pollInterval: 20, ...replicas } as never, ...extra })
  server.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  t.teardown(async () => { await server.close() })
  await server.ready()
  const token = server.jwt.sign({ sub: 'alice' })
  const get = async (id: string, revision?: string | null) => (await server.inject({
    url: `/d/${id}`,
    headers: { authorization: `Bearer ${token}`, ...(revision == null ? {} : { [REVISION_HEADER]: revision }) }
  })).statusCode
  const p = server.permissions
  const stats = () => (p.replicaStats() ?? [])
  const grant = async (id: string) => await p.grant({ grantee: alice, resource: 'document', id, privilege: 'read' })
  const revoke = async (id: string) => await p.revoke({ grantee: alice, resource: 'document', id, privilege: 'read' })
  return { server, p, get, stats, grant, revoke, log }
}

tap.test('reads go to the standby; with replay paused a revision is still answered as of its change', { skip: needsPostgres }, async (t) => {
  const s = await standbyOnce()
  const { p, get, stats, grant } = await app(t, { connectionStrings: [s.url], maxLag: 60_000 })
  await grant('d1')
  await s.caughtUp()
  await eventually(() => stats()[0]?.usable === true)

  await s.pauseReplay()
  t.teardown(() => s.resumeReplay())
  const { revision } = await grant('d2')
  const reads = stats()[0]?.reads as number
  t.equal(await p.check(principal, { resource: 'document', id: 'd2', privilege: 'read' }), false, 'the standby has not replayed the grant')
  t.same(await p.checkMany(principal, { resource: 'document', privilege: 'read', ids: ['d1', 'd2'] }), [true, false])
  t.same((await p.listIds(principal, { resource: 'document', privilege: 'read' })).ids, ['d1'])
  t.equal(await get('d2'), 403, 'the route check too')
  t.equal(stats()[0]?.reads, reads + 4, 'all four read from the standby')

  const started = performance.now()
  t.equal(await p.check(principal, { resource: 'document', id: 'd2', privilege: 'read' }, { revision }), true, 'with the revision: as of the grant')
  t.ok(performance.now() - started >= 45, 'after waiting (wait: 50 ms) for the standby to replay it')
  t.same(await p.checkMany(principal, { resource: 'document', privilege: 'read', ids: ['d1', 'd2'] }, { revision }), [true, true])
  t.same((await p.listIds(principal, { resource: 'document', privilege: 'read' }, { revision })).ids, ['d1', 'd2'])
  t.equal(await get('d2', revision), 200)
  t.equal(stats()[0]?.reads, reads + 4, 'none of them from the paused standby')

  await s.resumeReplay()
  await s.caughtUp()
  await eventually(async () => await p.check(principal, { resource: 'document', id: 'd2', privilege: 'read' }))
  t.equal(await get('d2', revision), 200)
  t.ok((stats()[0]?.reads as number) > reads + 4, 'once replayed, the standby answers the revision')
})

tap.test('read your writes on a live standby: grant and revoke, each checked with its revision, 50 times', { skip: needsPostgres }, async (t) => {
  const s = await standbyOnce()
  const { get, stats, grant, revoke } = await app(t, { connectionStrings: [s.url] })
  await eventually(() => stats()[0]?.usable === true)
  let wrong = 0
  for (let i = 0; i < 50; i++) {
    const id = `r${i}`
    if (await get(id, (await grant(id)).revision) !== 200) wrong++
    if (await get(id, (await revoke(id)).revision) !== 403) wrong++
  }
  t.equal(wrong, 0, 'every answer as of the change it presented')
  t.ok((stats()[0]?.reads as number) > 0, `the standby answered ${stats()[0]?.reads} of them`)
})

tap.test('bounded staleness: a standby further behind than maxLag is not read until it catches up', { skip: needsPostgres }, async (t) => {
  const s = await standbyOnce()
  const { p, stats, grant } = await app(t, { connectionStrings: [s.url], maxLag: 300 })
  await eventually(() => stats()[0]?.usable === true)
  await s.pauseReplay()
  t.teardown(() => s.resumeReplay())
  // Behind already by what the primary wrote since the last poll (other test files write too).
  const lagAtPause = stats()[0]?.lag as number
  // Timed from before the grant: its commit, from which the standby falls
  // behind, comes before the grant returns (tens of ms later on a busy machine).
  const paused = performance.now()
  await grant('d1')
  await eventually(() => stats()[0]?.usable === false, 5000)
  // Within one poll (20 ms) and the rounding of `lag`.
  t.ok(performance.now() - paused >= 300 - lagAtPause - 30, `it stayed in use while within maxLag (${lagAtPause} ms behind when paused)`)
  const reads = stats()[0]?.reads
  t.equal(await p.check(principal, { resource: 'document', id: 'd1', privilege: 'read' }), true, 'the primary answers')
  t.equal(stats()[0]?.reads, reads)
  await s.resumeReplay()
  await eventually(() => stats()[0]?.usable === true, 5000)
  t.equal(await p.check(principal, { resource: 'document', id: 'd1', privilege: 'read' }), true)
  t.equal(stats()[0]?.reads, (reads as number) + 1, 'and the standby is read again')
})

tap.test('with the decision cache, an answer is stored only from the primary', { skip: needsPostgres }, async (t) => {
  const s = await standbyOnce()
  const { get, stats, grant, server } = await app(t, { connectionStrings: [s.url], maxLag: 60_000 }, cacheOn())
  await eventually(() => stats()[0]?.usable === true)
  await s.pauseReplay()
  t.teardown(() => s.resumeReplay())
  // The grant is applied here at once and heard again from the database: after both, the next answer is kept.
  const heard = server.permissions.cacheStats()?.invalidations as number
  await grant('d1')
  await eventually(() => (server.permissions.cacheStats()?.invalidations as number) >= heard + 2)
  t.equal(await get('d1'), 200, 'the miss read the primary, not the standby that has not replayed the grant')
  t.equal(await get('d1'), 200)
  t.ok((server.permissions.cacheStats()?.hits as number) >= 1)
  t.equal(stats()[0]?.reads, 0)
})

tap.test('a standby that is down, and a server that is no standby: the primary answers, each is reported once', { skip: needsPostgres }, async (t) => {
  const closed = new URL(process.env.DATABASE_URL as string)
  closed.port = '1'
  const { p, get, stats, grant, log } = await app(t, { connectionStrings: [closed.toString(), process.env.DATABASE_URL] })
  await grant('d1')
  t.equal(await get('d1'), 200)
  t.equal(await p.check(principal, { resource: 'document', id: 'd1', privilege: 'read' }), true)
  t.same(stats().map((r) => [r.usable, r.reads]), [[false, 0], [false, 0]])
  await new Promise((resolve) => setTimeout(resolve, 100))
  const warnings = log.lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).includes('read replica'))
  t.same(warnings.map((l) => l.msg).sort(), [
    'fastify-default-deny: read replica not a standby; reading from the primary',
    'fastify-default-deny: read replica unreachable; reading from the primary'
  ], 'one warning each, however many polls')
  t.notOk(JSON.stringify(warnings).includes('password'), 'no credentials logged')
})

tap.test('the replicas option is checked at registration', async (t) => {
  const url = 'postgres://u@127.0.0.1:5432/x'
  const refused = [
    [{ replicas: true }, "option 'replicas' must be false or { connectionStrings, maxLag, wait, pollInterval }"],
    [{ replicas: { connectionStrings: [] } }, "option 'replicas.connectionStrings' must be a list of 1 to 16 postgres:// or postgresql:// URLs"],
    [{ replicas: { connectionStrings: ['mysql://x'] } }, "option 'replicas.connectionStrings' must be a list of 1 to 16 postgres:// or postgresql:// URLs"],
    [{ replicas: { connectionStrings: [url], lag: 1 } }, "option 'replicas' has unknown key 'lag'"],
    [{ replicas: { connectionStrings: [url], maxLag: 100, pollInterval: 100 } }, "option 'replicas.pollInterval' must be less than replicas.maxLag"],
    [{ replicas: { connectionStrings: [url], wait: -1 } }, /replicas\.wait/]
  ] as const
  for (const [options, message] of refused) {
    await t.rejects(readyWith(t, options), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message }, JSON.stringify(options))
  }
  if (!usingPostgres) {
    await t.rejects(readyWith(t, { replicas: { connectionStrings: [url] } }),
      { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: "option 'replicas' needs PostgreSQL: the embedded database has no standbys" })
  }
})
