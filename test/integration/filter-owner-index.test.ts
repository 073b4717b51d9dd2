// The owner half of the list filter (and of listIds) finds "what this user
// owns" through an index, not by reading every row of the owner table: at a
// million resources that scan was most of a filtered page's time. The grants
// the principal holds come from the holder index the same way.
import t from 'tap'
import { sql } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build } from '../helper.js'

const alice = userPrincipal('alice', ['staff'])
const read = { resource: 'document', privilege: 'read' as const }

t.test('the filter reads the owner table by index', async (t) => {
  const { app, db, schema } = await build(t)
  const host = db.withSchema(schema)
  await host.schema.createTable('document').addColumn('id', 'text', (col) => col.primaryKey()).execute()
  await host.insertInto('document').values(Array.from({ length: 50 }, (_, i) => ({ id: `d${i}` }))).execute()
  for (let i = 0; i < 50; i++) await app.permissions.setOwner({ resource: 'document', id: `d${i}`, owner: i % 10 === 0 ? 'alice' : 'bob' })

  const query = host.selectFrom('document').select('id').where(app.permissions.filter(alice, read, 'document.id'))
  t.same((await query.execute()).map((r) => r.id).sort(), ['d0', 'd10', 'd20', 'd30', 'd40'], 'what alice owns')
  // With sequential scans priced out, the plan shows whether an index can
  // serve the lookup at all (on a table this small the planner would scan).
  const plan = await db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx)
    const rows = await trx.withSchema(schema).selectFrom('document').select('id')
      .where(app.permissions.filter(alice, read, 'document.id')).explain()
    return rows.map((row) => String(row['QUERY PLAN'])).join('\n')
  })
  t.notMatch(plan, /Seq Scan on default_deny_resource/, 'no sequential scan of the owner table')
  t.match(plan, /default_deny_resource_owner_idx/, 'the owner index serves it')
  t.match(plan, /default_deny_grant_holder_idx/, 'the holder index serves the grants the principal holds')
  t.notMatch(plan, /Seq Scan on default_deny_grant/, 'no sequential scan of the grant table')
})
