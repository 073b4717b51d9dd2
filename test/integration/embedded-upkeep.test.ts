// On the embedded database, which runs no autovacuum, the running plugin
// vacuums and analyzes its tables once enough rows have changed: the grant
// table then has column statistics and all-visible pages. Fewer changes
// leave it as it was. (When it runs: test/unit/embedded-upkeep.test.ts.)
import t from 'tap'
import { UPKEEP_BASE } from '../../lib/store/maintenance.js'
import { build, grantTableMaintained, usingPostgres } from '../helper.js'

const skip = usingPostgres && 'PGlite only: on PostgreSQL autovacuum keeps the tables, and the plugin runs no VACUUM of its own'
const grants = (count: number) => Array.from({ length: count }, (_, i) =>
  ({ grantee: { kind: 'user' as const, id: `u${i % 13}` }, resource: 'document', id: `d${i}`, privilege: 'read' as const }))

t.test(`${UPKEEP_BASE} grants written: the tables are vacuumed and analyzed`, { skip }, async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  await app.permissions.grantMany(grants(UPKEEP_BASE))
  t.equal((await app.permissions.check({ kind: 'user', id: 'u1', groups: [], superuser: false, claims: null }, { resource: 'document', id: 'd1', privilege: 'read' })), true, 'a check right after it is answered')
  // Closing waits for the upkeep under way.
  await app.close()
  t.same(await grantTableMaintained(db, schema), { statistics: true, allVisible: true })
})

t.test(`${UPKEEP_BASE - 1} grants written: not yet`, { skip }, async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  await app.permissions.grantMany(grants(UPKEEP_BASE - 1))
  await app.close()
  t.same(await grantTableMaintained(db, schema), { statistics: false, allVisible: false })
})
