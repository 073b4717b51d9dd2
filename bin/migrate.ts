// npm run migrate -- [up|down] [--schema NAME]
// Uses DATABASE_URL when set, otherwise the embedded database the example uses.
import { parseArgs } from 'node:util'
import { runMigrations } from '../lib/store/migrate.js'
import { DEFAULT_PGLITE_DIR, openDatabase } from '../lib/store/pglite.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { schema: { type: 'string', default: 'public' } }
})
const command = positionals[0] ?? 'up'
if (command !== 'up' && command !== 'down') {
  console.error(`unknown command '${command}': use 'up' or 'down'`)
  process.exit(2)
}

const db = await openDatabase(process.env.DATABASE_URL, process.env.PGLITE_DIR ?? DEFAULT_PGLITE_DIR, 1)

try {
  const ran = await runMigrations(db, { schema: values.schema, direction: command === 'up' ? 'latest' : 'down' })
  console.log(ran.length === 0 ? 'nothing to do' : `${command === 'up' ? 'applied' : 'reverted'}: ${ran.join(', ')}`)
} catch (err) {
  console.error(`${(err as Error).message}${(err as Error).cause ? ` (${String((err as Error).cause)})` : ''}`)
  process.exitCode = 1
} finally {
  await db.destroy()
}
