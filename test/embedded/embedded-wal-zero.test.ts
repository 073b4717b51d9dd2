// The plugin's embedded database skips zero-filling new WAL segments: inside
// PGlite that is 16 MB written while the one connection waits, which a large
// write (a move of a big folder) crossed several times, holding every check
// beside it back (BENCHMARKS.md, "Moves in steps").
import t from 'tap'
import { sql } from 'kysely'
import '../helper.js'
import { createPGliteKysely } from '../../lib/store/pglite.js'

t.test('the plugin opens PGlite with wal_init_zero off, and its own defaults kept', async (t) => {
  const db = await createPGliteKysely()
  t.teardown(() => db.destroy())
  const { rows } = await sql<{ wal_init_zero: string }>`show wal_init_zero`.execute(db)
  t.equal(rows[0]?.wal_init_zero, 'off')
  const search = await sql<{ search_path: string }>`show search_path`.execute(db)
  t.equal(search.rows[0]?.search_path, 'public', 'PGlite\'s own start parameters still apply')
})
