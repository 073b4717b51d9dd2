// Two plugin instances on two schemas of one database (two apps, or a schema
// per tenant) share no lock: a write held open in one schema holds up no
// write in the other. And an audit chain cannot fork, whatever lock a writer
// took: no two entries written since the plugin's migration 20261210090000
// name the same predecessor.
import t from 'tap'
import { sql } from 'kysely'
import { build, testDatabase, usingPostgres } from '../helper.js'
import { runMigrations } from '../../lib/store/migrate.js'

const carolReads = { grantee: { kind: 'user' as const, id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read' as const, grantedBy: 'olga' }

t.test('a write held open in one schema does not hold up a write in another', {
  skip: usingPostgres ? false : 'the embedded database has one connection: any open transaction holds up every other statement'
}, async (t) => {
  const a = await build(t)
  const b = await build(t)
  await a.app.ready()
  await b.app.ready()
  await a.db.transaction().execute(async (trxA) => {
    // Holds schema A's audit chain lock and document d1's lock until it ends.
    await a.app.permissions.grant(carolReads, { db: trxA })
    await a.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' }, { db: trxA, actor: 'olga' })
    // The same resource and the same kinds of lock, in schema B: before the
    // lock keys named their schema, these waited for trxA, here for ever.
    await b.db.transaction().execute(async (trxB) => {
      await sql`set local lock_timeout = '5s'`.execute(trxB)
      const granted = await b.app.permissions.grant(carolReads, { db: trxB })
      t.equal(granted.created, true, 'the grant in schema B is written while schema A\'s write is open')
      await b.app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'bob' }, { db: trxB, actor: 'bob' })
    })
    const seen = await b.db.withSchema(b.schema).selectFrom('default_deny_audit').select('action').orderBy('seq').execute()
    t.same(seen.map((row) => row.action), ['grant', 'owner'], 'schema B\'s write committed, with its audit entries, before schema A\'s')
  })
  t.equal((await a.app.permissions.verifyAudit()).ok, true, 'schema A\'s chain verifies')
  t.equal((await b.app.permissions.verifyAudit()).ok, true, 'schema B\'s chain verifies')
})

t.test('an entry naming a predecessor another entry names is refused', async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  await app.permissions.grant(carolReads)
  await app.permissions.grant({ ...carolReads, privilege: 'edit' as const })
  const audit = db.withSchema(schema).selectFrom('default_deny_audit')
  const [first, second] = await audit.selectAll().orderBy('seq').execute()
  // What a writer of an earlier release, taking another lock, could have
  // appended beside the second entry: the same predecessor, its own content.
  const { seq: _seq, ...content } = second
  const fork = { ...content, before: JSON.stringify(content.before), after: JSON.stringify(content.after), reason: 'forked', hash: 'f'.repeat(64) }
  await t.rejects(db.withSchema(schema).insertInto('default_deny_audit').values(fork).execute(),
    { code: '23505', constraint: 'default_deny_audit_prev_hash_key' }, 'the fork is refused by the database')
  t.equal(second.prev_hash, first.hash)
  t.equal((await audit.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n, 2, 'nothing was added')
})

t.test('the migration leaves a trail already forked as it is, and refuses new forks', async (t) => {
  const { db, schema } = await testDatabase(t)
  await runMigrations(db, { schema })
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261210090000_audit_chain_links'])
  const entry = (n: number, prev: string) => ({
    at: new Date(), actor: 'olga', action: 'grant', principal_kind: 'user', principal_id: 'carol', resource_type: 'document',
    resource_id: `d${n}`, before: '[]', after: '["read"]', request_id: null, reason: null, prev_hash: prev, hash: String(n).repeat(64)
  })
  const audit = db.withSchema(schema)
  // A trail an earlier release could leave: two entries after the same one.
  await audit.insertInto('default_deny_audit').values([entry(1, '0'.repeat(64)), entry(2, '1'.repeat(64)), entry(3, '1'.repeat(64))]).execute()
  t.same(await runMigrations(db, { schema }), ['20261210090000_audit_chain_links'], 'the upgrade is not stopped by the old fork')
  await t.rejects(audit.insertInto('default_deny_audit').values(entry(4, '3'.repeat(64))).execute().then(async () =>
    await audit.insertInto('default_deny_audit').values(entry(5, '3'.repeat(64))).execute()),
  { code: '23505' }, 'a new fork is refused')
  t.equal((await audit.selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n, 4,
    'the old entries and the first of the new ones are kept')
})
