// export and import of grants, CSV and JSON Lines: a round trip, and an
// import with one bad row that imports nothing and names the row.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, grantsOf } from './cli-helper.js'

t.test('export, then import into another schema: the same grants, both formats', async (t) => {
  const source = await cliWorld(t)
  for (const args of [
    ['user:alice', 'read', 'document', '1', '--expires', '2099-01-01T00:00:00Z'],
    ['group:staff', 'edit', 'document', '--type-level'],
    ['anonymous', 'read', 'document', 'public, "quoted"'],
    ['user:bob', 'read', 'folder', 'f/1', '--starts', '2098-01-01']
  ]) t.equal((await source.cli('grant', ...args, '--actor', 'olga')).code, 0)
  const expected = await grantsOf(source)
  t.equal(expected.length, 4)

  for (const format of ['csv', 'json']) {
    const file = join(source.dir, `grants.${format}`)
    const exported = await source.cli('export', file, '--json')
    t.same(exported.json, { exported: 4, file, format }, exported.stderr)
    if (format === 'csv') t.match(await readFile(file, 'utf8'), /^granteeKind,granteeId,resource,id,privilege,grantedBy,grantedAt,expiresAt,startsAt\n/)
    const target = await cliWorld(t)
    const imported = await target.cli('import', file, '--actor', 'ops', '--json')
    t.equal(imported.code, 0, imported.stderr)
    t.same(imported.json, { rows: 4, created: 4, existing: 0 })
    t.same(await grantsOf(target), expected, `${format}: the grants came back as they were`)
    const again = await target.cli('import', file)
    t.match(again.stdout, /imported 4 rows from .*: 0 new, 4 already granted/)
  }
  const filtered = await source.cli('export', '--format', 'csv', '--resource', 'folder')
  t.equal(filtered.stdout.trim().split('\n').length, 2, 'the header and the folder grant')
  const bob = await source.cli('export', '--grantee', 'user:bob')
  t.match(JSON.parse(bob.stdout), { grantee: { kind: 'user', id: 'bob' }, resource: 'folder', id: 'f/1' })
})

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

  // Rows that parse but the service refuses are caught inside the transaction: the rows before are rolled back.
  const json = join(dir, 'refused.jsonl')
  await writeFile(json, [
    JSON.stringify({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' }),
    '',
    JSON.stringify({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: '2', privilege: 'fly' })
  ].join('\n'))
  const refused = await cli('import', json)
  t.equal(refused.code, 3)
  t.match(refused.stderr, /nothing imported: line 3: invalid grant: unknown privilege/)

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
