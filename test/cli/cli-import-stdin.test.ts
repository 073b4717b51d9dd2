// import - : the grants from standard input, JSON Lines unless --format csv
// says otherwise; read twice from a spooled copy that is removed afterwards.
import { readdir } from 'node:fs/promises'
import t from 'tap'
import { cliWorld, grantsOf } from '../cli-helper.js'

// Each command is a process of its own that opens the database (seconds on
// PGlite, more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

const JSONL = [
  '{"grantee":{"kind":"user","id":"alice"},"resource":"document","id":"1","privilege":"read","expiresAt":null}',
  '{"grantee":{"kind":"group","id":"staff"},"resource":"document","id":null,"privilege":"edit"}',
  ''
].join('\n')

const CSV = 'granteeKind,granteeId,resource,id,privilege\nuser,bob,folder,f1,read\nanonymous,,folder,public,read\n'

// A real pipe into a process of its own, whose temporary directory (TMPDIR)
// is this test's, to see the spooled copy go: these worlds run their commands
// as child processes. tsx keeps its cache in the temporary directory too.
const spools = async (dir: string) => (await readdir(dir)).filter((name) => name.startsWith('fastify-default-deny-import-'))

t.test('import - : JSON Lines by default, CSV with --format csv, the spool removed', async (t) => {
  const world = await cliWorld(t, { process: true })
  // The spool goes to the temporary directory: this test's, to see it emptied.
  world.env.TMPDIR = world.dir

  const json = await world.pipe(JSONL, 'import', '-', '--actor', 'ops', '--json')
  t.equal(json.code, 0, json.stderr)
  t.same(json.json, { database: world.database, rows: 2, created: 2, existing: 0 })
  const words = await world.pipe(CSV, 'import', '-', '--format', 'csv')
  t.equal(words.code, 0, words.stderr)
  t.match(words.stdout, /^imported 2 rows from standard input: 2 new, 0 already granted$/m)

  t.same(await grantsOf(world), [
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read', grantedBy: 'ops', expiresAt: null, startsAt: null },
    { grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'edit', grantedBy: 'ops', expiresAt: null, startsAt: null },
    { grantee: { kind: 'user', id: 'bob' }, resource: 'folder', id: 'f1', privilege: 'read', grantedBy: null, expiresAt: null, startsAt: null },
    { grantee: { kind: 'anonymous' }, resource: 'folder', id: 'public', privilege: 'read', grantedBy: null, expiresAt: null, startsAt: null }
  ], 'every row of both was granted, in order')
  t.same(await spools(world.dir), [], 'the spooled copies are removed')
})

t.test('import - : a bad row refuses all of standard input; CSV without --format is not JSON', async (t) => {
  const world = await cliWorld(t, { process: true })
  world.env.TMPDIR = world.dir
  const bad = await world.pipe(`${JSONL}{"grantee":{"kind":"robot","id":"x"},"resource":"document","id":"2","privilege":"read"}\n`, 'import', '-')
  t.equal(bad.code, 3, bad.stderr)
  t.match(bad.stderr, /nothing imported: 1 bad row in standard input\n {2}line 3: grantee kind 'robot'/)
  const csv = await world.pipe(CSV, 'import', '-')
  t.equal(csv.code, 3, 'CSV read as JSON Lines')
  t.match(csv.stderr, /line 1: not JSON/)
  const refused = await world.pipe(JSONL.replace('"read"', '"fly"'), 'import', '-')
  t.equal(refused.code, 3)
  t.match(refused.stderr, /nothing imported: 1 bad row in standard input\n  line 1: invalid grant: privilege must be one of read, edit, delete, manage \(got "fly"\)/)
  t.same(await grantsOf(world), [], 'nothing was granted')
  t.same(await spools(world.dir), [], 'the spooled copies are removed, refused or not')
})
