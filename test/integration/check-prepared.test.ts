// On PostgreSQL the route check is a named prepared statement: parsed and
// planned once per connection, then only bound and executed.
import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import { sql } from 'kysely'
import defaultDeny from '../../lib/index.js'
import { postgresKysely } from '../../lib/store/postgres.js'
import { SECRET, testDatabase, usingPostgres } from '../helper.js'

t.test('the check is prepared once per connection and reused', { skip: usingPostgres ? false : 'PostgreSQL only' }, async (t) => {
  const { schema } = await testDatabase(t)
  // One connection, so the statements this test lists are the plugin's.
  const db = postgresKysely(process.env.DATABASE_URL as string, { max: 1 })
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close(); await db.destroy() })
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema })
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => ({ ok: true }))
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read' })
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'alice' })}` }

  const prepared = async () => (await sql<{ name: string, calls: string }>`
    select name from pg_prepared_statements where name like 'fdd\\_%'`.execute(db)).rows.map((row) => row.name)
  t.same(await prepared(), [], 'nothing prepared before the first check')
  t.equal((await app.inject({ url: '/documents/d1', headers })).statusCode, 200)
  t.equal((await app.inject({ url: '/documents/d2', headers })).statusCode, 403)
  const names = await prepared()
  t.equal(names.length, 1, 'one statement serves allows and denies')
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: `/documents/d${i % 2 + 1}`, headers })).statusCode, i % 2 === 0 ? 200 : 403)
  t.same(await prepared(), names, 'later checks reuse it')
})
