// A large import streams, prints progress lines when standard error is not a
// terminal, and lands whole.
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld } from '../cli-helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

const ROWS = 20_000

t.test(`${ROWS} rows in one transaction, with progress`, async (t) => {
  const { cli, dir, database } = await cliWorld(t)
  const file = join(dir, 'large.csv')
  const out = createWriteStream(file)
  out.write('granteeKind,granteeId,resource,id,privilege\n')
  for (let i = 0; i < ROWS; i++) {
    if (!out.write(`user,u${i % 500},document,d${i},read\n`)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')

  const imported = await cli('import', file, '--actor', 'bulk', '--json')
  t.equal(imported.code, 0, imported.stderr)
  t.same(imported.json, { database, rows: ROWS, created: ROWS, existing: 0 })
  const lines = imported.stderr.trim().split('\n')
  t.equal(lines.length, 10, 'a line at every tenth')
  t.equal(lines[0], `import: ${ROWS / 10}/${ROWS} rows (10%)`)
  t.equal(lines[9], `import: ${ROWS}/${ROWS} rows (100%)`)
  const u7 = await cli('list', '--grantee', 'user:u7', '--json')
  t.equal(u7.json.grants.length, ROWS / 500)
})
