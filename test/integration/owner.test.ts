import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

async function app (t: Parameters<typeof build>[0]) {
  const built = await build(t)
  for (const [method, privilege] of [['GET', 'read'], ['PUT', 'edit'], ['DELETE', 'delete']] as const) {
    built.app.route({ method, url: '/d/:id', config: { permission: { resource: 'document', privilege } }, handler: async () => privilege })
  }
  return built
}

t.test('the recorded owner holds read, edit and delete with no grant rows', async (t) => {
  const { app: server, as } = await app(t)
  await server.ready()
  await server.permissions.setOwner({ resource: 'document', id: '1', owner: 'olga' })
  for (const method of ['GET', 'PUT', 'DELETE'] as const) {
    t.equal((await server.inject({ method, url: '/d/1', headers: as('olga') })).statusCode, 200, method)
    t.equal((await server.inject({ method, url: '/d/1', headers: as('bob') })).statusCode, 403, `${method} by someone else`)
    t.equal((await server.inject({ method, url: '/d/2', headers: as('olga') })).statusCode, 403, `${method} on another resource`)
  }
  t.same(await server.permissions.listGrants({ resource: 'document', id: '1' }), [])
  t.equal(await server.permissions.getOwner({ resource: 'document', id: '1' }), 'olga')
})

t.test('a group with the owner id is not the owner', async (t) => {
  const { app: server, as } = await app(t)
  await server.ready()
  await server.permissions.setOwner({ resource: 'document', id: '1', owner: 'olga' })
  t.equal((await server.inject({ url: '/d/1', headers: as('bob', { groups: ['olga'] }) })).statusCode, 403)
})

t.test('changing or clearing the owner takes effect on the next request', async (t) => {
  const { app: server, as } = await app(t)
  await server.ready()
  await server.permissions.setOwner({ resource: 'document', id: '1', owner: 'olga' })
  await server.permissions.setOwner({ resource: 'document', id: '1', owner: 'oscar' })
  t.equal((await server.inject({ url: '/d/1', headers: as('olga') })).statusCode, 403)
  t.equal((await server.inject({ url: '/d/1', headers: as('oscar') })).statusCode, 200)
  await server.permissions.setOwner({ resource: 'document', id: '1', owner: null })
  t.equal((await server.inject({ url: '/d/1', headers: as('oscar') })).statusCode, 403)
})

t.test('the owner is recorded inside the host transaction: commit and rollback', async (t) => {
  const { app: server, db, schema, as } = await app(t)
  await server.ready()
  await sql`create table ${sql.id(schema, 'documents')} (id text primary key)`.execute(db)
  const scoped = db.withSchema(schema)

  await db.transaction().execute(async (trx) => {
    await trx.withSchema(schema).insertInto('documents').values({ id: '1' }).execute()
    await server.permissions.setOwner({ resource: 'document', id: '1', owner: 'olga' }, { db: trx })
  })
  t.equal((await server.inject({ url: '/d/1', headers: as('olga') })).statusCode, 200)

  await t.rejects(db.transaction().execute(async (trx) => {
    await trx.withSchema(schema).insertInto('documents').values({ id: '2' }).execute()
    await server.permissions.setOwner({ resource: 'document', id: '2', owner: 'olga' }, { db: trx })
    throw new Error('host failure after recording the owner')
  }), /host failure/)
  t.equal(await server.permissions.getOwner({ resource: 'document', id: '2' }), null, 'the owner row rolled back')
  t.same(await scoped.selectFrom('documents').select('id').execute(), [{ id: '1' }])
  t.equal((await server.inject({ url: '/d/2', headers: as('olga') })).statusCode, 403)
})

t.test('forgetResource removes the owner and every grant, so a reused id inherits nothing', async (t) => {
  const { app: server, as } = await app(t)
  await server.ready()
  await server.permissions.setOwner({ resource: 'document', id: '1', owner: 'olga' })
  await server.permissions.grant({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: '1', privilege: 'read' })
  await server.permissions.grant({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: '3', privilege: 'read' })
  await server.permissions.forgetResource({ resource: 'document', id: '1' })
  t.equal((await server.inject({ url: '/d/1', headers: as('olga') })).statusCode, 403)
  t.equal((await server.inject({ url: '/d/1', headers: as('bob') })).statusCode, 403)
  t.equal((await server.inject({ url: '/d/3', headers: as('bob') })).statusCode, 200, 'other resources keep their grants')
})
