import { startNewDatabasesFromTemplate } from '/work/main/test/pglite-helper.js'
import { createPGliteKysely } from '/work/main/lib/store/pglite.js'
import { sql } from '/work/main/node_modules/kysely/dist/esm/index.js'
import { mkdtempSync } from 'node:fs'
startNewDatabasesFromTemplate()
const dir = mkdtempSync('/tmp/mt/d-')
for (let i = 0; i < 6; i++) {
  const t0 = performance.now(); const c0 = process.cpuUsage()
  const db = await createPGliteKysely(dir)
  const t1 = performance.now()
  await sql`select 1`.execute(db)
  const t2 = performance.now()
  await db.destroy()
  const t3 = performance.now(); const c = process.cpuUsage(c0)
  console.log(`open ${(t1-t0).toFixed(0)} ms, first query ${(t2-t1).toFixed(0)}, close ${(t3-t2).toFixed(0)}, cpu ${((c.user+c.system)/1000).toFixed(0)} ms`)
}
