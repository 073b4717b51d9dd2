// A revision through the decision cache: a request presenting the revision
// of a change is answered as of that change, on any instance, even before
// that instance has heard of it on its own. Without a revision the cache
// may answer from before a change it has not heard yet; with one, never.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import type { Kysely } from 'kysely'
import defaultDeny from '../../lib/index.js'
import { REVISION_HEADER } from '../../lib/revision.js'
import { SECRET, testDatabase, usingPostgres } from '../helper.js'
import { cacheOn, databaseProxy, eventually } from '../cache-helper.js'

const alice = { kind: 'user', id: 'alice' } as const
type Teardown = Parameters<typeof testDatabase>[0]

async function instance (t: Teardown, db: Kysely<any>, schema: string, cache: Record<string, unknown> = cacheOn()) {
  const app = Fastify()
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema, ...cache })
  let ran = 0
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  t.teardown(async () => { await app.close() })
  await app.ready()
  const token = app.jwt.sign({ sub: 'alice' })
  const get = async (id: string, revision?: string | null) => (await app.inject({
    url: `/d/${id}`,
    headers: { authorization: `Bearer ${token}`, ...(revision == null ? {} : { [REVISION_HEADER]: revision }) }
  })).statusCode
  const stats = () => app.permissions.cacheStats() as NonNullable<ReturnType<typeof app.permissions.cacheStats>>
  return { app, get, stats, ran: () => ran }
}

t.test('two instances: the revision of a change on one is honoured by the other at once, both ways', async (t) => {
  const { db, schema } = await testDatabase(t)
  const a = await instance(t, db, schema)
  const b = await instance(t, db, schema)
  let stale = 0
  let missed = 0
  let last: string | null = null
  for (let i = 0; i < 30; i++) {
    const id = String(i)
    // b has cached the denial before the grant, and the allow before the revoke.
    t.equal(await b.get(id), 403)
    const granted = await a.app.permissions.grant({ grantee: alice, resource: 'document', id, privilege: 'read' })
    if (await b.get(id, granted.revision) !== 200) missed++
    const revoked = await a.app.permissions.revoke({ grantee: alice, resource: 'document', id, privilege: 'read' })
    if (await b.get(id, revoked.revision) !== 403) stale++
    last = revoked.revision
  }
  t.equal(missed, 0, 'a grant is seen by a request presenting its revision')
  t.equal(stale, 0, 'a revoke is seen by a request presenting its revision')
  const hits = b.stats().hits
  t.equal(await b.get('29', last), 403)
  t.equal(b.stats().hits, hits + 1, 'once heard, a revision is answered from the cache')
})

t.test('with the change feed held back, the cache serves the old answer, and a revision waits for the feed', { skip: !usingPostgres && 'needs PostgreSQL: a LISTEN connection to hold back' }, async (t) => {
  const { db, schema } = await testDatabase(t)
  const { proxy, through } = await databaseProxy(t)
  const a = await instance(t, db, schema)
  const b = await instance(t, db, schema, cacheOn({ listenConnectionString: through }))
  const heard = b.stats().invalidations
  const { revision: granted } = await a.app.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await b.get('1', granted), 200)
  await eventually(() => b.stats().invalidations > heard)
  t.equal(await b.get('1'), 200)
  t.equal(await b.get('1'), 200, 'cached')

  proxy.holdReplies()
  const { revision } = await a.app.permissions.revoke({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await b.get('1'), 200, 'without a revision: the allow from before the revoke, which b has not heard of')
  const handled = b.ran()
  const started = Date.now()
  const fresh = b.get('1', revision)
  setTimeout(() => { proxy.releaseReplies() }, 300)
  t.equal(await fresh, 403, 'with the revision: denied')
  t.ok(Date.now() - started >= 250, 'the request waited for the feed to deliver what came before it')
  t.equal(b.ran(), handled, 'handler not run')
  t.equal(await b.get('1'), 403, 'and the cache has heard it')
})

t.test('a revision while the feed is down: answered from the database', { skip: !usingPostgres && 'needs PostgreSQL: a LISTEN connection to lose' }, async (t) => {
  const { db, schema } = await testDatabase(t)
  const { proxy, through } = await databaseProxy(t)
  const a = await instance(t, db, schema)
  const b = await instance(t, db, schema, cacheOn({ listenConnectionString: through }))
  await a.app.permissions.grant({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await b.get('1'), 200)
  proxy.pause()
  proxy.reset()
  await eventually(() => !b.stats().on)
  const { revision } = await a.app.permissions.revoke({ grantee: alice, resource: 'document', id: '1', privilege: 'read' })
  t.equal(await b.get('1', revision), 403)
  t.equal(await b.get('1'), 403)
  proxy.resume()
})

t.test('two processes: a writer in another process, its revisions honoured here at once', { skip: !usingPostgres && 'needs PostgreSQL: two processes on one database' }, async (t) => {
  const { db, schema } = await testDatabase(t)
  const b = await instance(t, db, schema)
  const script = fileURLToPath(new URL('../fixtures/revision-writer.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script, schema], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill() })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const answer = async () => JSON.parse((await lines.next()).value as string) as { revision: string, ready?: true }
  t.same(await answer(), { ready: true })
  const change = async (op: string, id: string) => {
    child.stdin.write(JSON.stringify({ op, id }) + '\n')
    return (await answer()).revision
  }
  let stale = 0
  let missed = 0
  for (let i = 0; i < 30; i++) {
    const id = String(i)
    t.equal(await b.get(id), 403)
    if (await b.get(id, await change('grant', id)) !== 200) missed++
    if (await b.get(id, await change('revoke', id)) !== 403) stale++
  }
  child.stdin.end()
  t.equal(missed, 0)
  t.equal(stale, 0, 'no revoked grant served to a request presenting its revision')
})
