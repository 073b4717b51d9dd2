// Forgetting @fastify/jwt, or registering it in the wrong place, is told in
// words that say what to do, before anything else happens.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import defaultDeny from '../../lib/index.js'
import { sql } from 'kysely'
import { SECRET, testDatabase } from '../helper.js'

const MESSAGE = /^register @fastify\/jwt before fastify-default-deny/

t.test('without @fastify/jwt, register() rejects with the coded error and writes nothing', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(defaultDeny, { db, schema }) }, { code: 'FST_DEFAULT_DENY_JWT_MISSING', message: MESSAGE })
  const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = ${schema}`.execute(db)
  t.equal(tables.rows[0]?.n, 0, 'no migration ran: not even the tables exist')
})

t.test('@fastify/jwt registered after the plugin is the same mistake', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(defaultDeny, { db, schema })
  app.register(jwt, { secret: SECRET })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_JWT_MISSING', message: MESSAGE })
})

t.test('@fastify/jwt in a sibling scope is not visible to the plugin', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(async (scope) => { await scope.register(jwt, { secret: SECRET }) })
  app.register(defaultDeny, { db, schema })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_JWT_MISSING' })
})

t.test('@fastify/jwt registered first: the plugin starts', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema })
  await app.ready()
  t.ok(app.hasDecorator('permissions'))
})
