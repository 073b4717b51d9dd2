// An import with bad rows imports nothing and names each row by its line.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, grantsOf } from '../cli-helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

t.test('one bad row: nothing imported, the row named', async (t) => {
  const world = await cliWorld(t)
  const { cli, dir } = world
  const csv = join(dir, 'bad.csv')
  await writeFile(csv, [
    'granteeKind,granteeId,resource,id,privilege,expiresAt',
    'user,alice,document,1,read,',
    'user,bob,document,2,read,',
    'robot,r2,document,3,read,',
    'user,carol,document,4,read,next week',
    'user,dave,document,5,read,'
  ].join('\n') + '\n')
  const out = await cli('import', csv, '--json')
  t.equal(out.code, 3)
  t.match(out.stderr, /nothing imported: 2 bad rows/)
  t.match(out.stderr, /line 4: grantee kind 'robot'/)
  t.match(out.stderr, /line 5: expiresAt 'next week'/)
  t.same(out.json.error.details.rows.map((r: { line: number }) => r.line), [4, 5])

  // Rows that parse but the service would refuse are caught by the checking pass too.
  const json = join(dir, 'refused.jsonl')
  await writeFile(json, [
    JSON.stringify({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' }),
    '',
    JSON.stringify({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: '2', privilege: 'fly' })
  ].join('\n'))
  const refused = await cli('import', json)
  t.equal(refused.code, 3)
  t.match(refused.stderr, /nothing imported: 1 bad row in .*refused\.jsonl\n  line 3: invalid grant: privilege must be one of read, edit, delete, manage \(got "fly"\)/)

  const typeLevel = join(dir, 'no-id.jsonl')
  await writeFile(typeLevel, JSON.stringify({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', privilege: 'read' }) + '\n')
  const noId = await cli('import', typeLevel)
  t.match(noId.stderr, /line 1: id is missing: use null for a type-level grant/, 'a forgotten id never becomes a type-level grant')

  const header = join(dir, 'header.csv')
  await writeFile(header, 'who,resource,id,privilege\nuser,document,1,read\n')
  const badHeader = await cli('import', header)
  t.equal(badHeader.code, 3)
  t.match(badHeader.stderr, /line 1: unknown column 'who'/)
  t.equal((await cli('import', join(dir, 'absent.csv'))).code, 2)
  t.equal((await cli('import', join(dir, 'grants.txt'))).code, 2, 'a format is needed')
  t.same(await grantsOf(world), [], 'nothing was imported')
})
