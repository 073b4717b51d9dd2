// Any failure in the check path denies with 503 and a generic body, logs why,
// and never runs the handler.
import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import { sql } from 'kysely'
import defaultDeny from '../../lib/index.js'
import { openDatabase } from '../../lib/store/pglite.js'
import { build, logCapture, SECRET, testDatabase, usingPostgres } from '../helper.js'


const UNAVAILABLE = {
  statusCode: 503, code: 'FST_DEFAULT_DENY_UNAVAILABLE', error: 'Service Unavailable', message: 'Authorization is temporarily unavailable'
}

t.test('database unreachable: 503, handler not run, a log line says why', async (t) => {
  const { lines, logger } = logCapture()
  const app = Fastify({ logger })
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET })
  // Port 1 on loopback: nothing listens there, so connecting is refused.
  await app.register(defaultDeny, { connectionString: 'postgres://postgres@127.0.0.1:1/none', migrate: false, checkTimeout: 1000 })
  let ran = 0
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  const res = await app.inject({ url: '/d/1', headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'alice' })}` } })
  t.equal(res.statusCode, 503)
  t.same(res.json(), UNAVAILABLE)
  t.equal(ran, 0)
  t.ok(lines.some((line) => String(line.msg).includes('failing closed')), 'logged')
  t.notMatch(res.body, /ECONNREFUSED|127\.0\.0\.1|stack/, 'nothing internal leaks')
})

t.test('database closed after start: 503', async (t) => {
  const db = await openDatabase(usingPostgres ? process.env.DATABASE_URL : undefined)
  const schema = `dd_closed_${process.pid}`
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema })
  let ran = 0
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'alice' })}` }
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  await sql`drop schema ${sql.id(schema)} cascade`.execute(db)
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 503, 'tables gone')
  await db.destroy()
  const res = await app.inject({ url: '/d/1', headers })
  t.equal(res.statusCode, 503, 'connection closed')
  t.same(res.json(), UNAVAILABLE)
  t.equal(ran, 1)
})

t.test('a check slower than checkTimeout: 503 without waiting for the database', async (t) => {
  const { app, db, schema, as } = await build(t, { checkTimeout: 300 })
  let ran = 0
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' })

  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  let locked!: () => void
  const lockTaken = new Promise<void>((resolve) => { locked = resolve })
  // A real lock: the check query waits behind this transaction.
  const holder = db.transaction().execute(async (trx) => {
    await sql`lock table ${sql.id(schema, 'default_deny_grant')} in access exclusive mode`.execute(trx)
    locked()
    await held
  })
  await lockTaken
  const started = Date.now()
  const res = await app.inject({ url: '/d/1', headers: as('alice') })
  const elapsed = Date.now() - started
  release()
  await holder
  t.equal(res.statusCode, 503)
  t.ok(elapsed < 3000, `answered after ${elapsed} ms`)
  t.equal(ran, 0)
  t.equal((await app.inject({ url: '/d/1', headers: as('alice') })).statusCode, 200, 'works again once the lock is gone')
})

t.test('a throwing principal resolver or id extractor: 503', async (t) => {
  const { lines, logger } = logCapture()
  const { app, as } = await build(t, {
    resolvePrincipal: (_request, claims) => {
      if (claims.sub === 'boom') throw new Error('directory down')
      if (claims.sub === 'bad') return { id: '', groups: [], superuser: true }
      return { id: String(claims.sub), groups: [], superuser: false }
    }
  }, { logger })
  let ran = 0
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  app.get('/q', {
    config: { permission: { resource: 'document', privilege: 'read', id: () => { throw new Error('extractor bug') } } }
  }, async () => { ran++; return 'ok' })
  await app.ready()
  for (const [url, sub] of [['/d/1', 'boom'], ['/d/1', 'bad'], ['/q', 'alice']]) {
    const res = await app.inject({ url, headers: as(sub as string) })
    t.equal(res.statusCode, 503, `${url} as ${sub}`)
    t.same(res.json(), UNAVAILABLE)
    t.notMatch(res.body, /directory down|extractor bug/)
  }
  t.equal(ran, 0)
  t.ok(lines.filter((line) => line.level === 50).length >= 3, 'each failure logged as an error')
})

t.test('a missing database option fails registration: there is no in-memory store', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET })
  app.register(defaultDeny, {})
  await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_INVALID_OPTION' })
})

t.test('migration failure fails registration with a coded error', async (t) => {
  const { db, schema } = await testDatabase(t)
  // A host table already using the plugin's name makes the first migration fail.
  await sql`create schema ${sql.id(schema)}`.execute(db)
  await sql`create table ${sql.id(schema, 'default_deny_grant')} (x int)`.execute(db)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET })
  app.register(defaultDeny, { db, schema })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_MIGRATION_FAILED' })
})
