// export and import of grants, CSV and JSON Lines: a round trip.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, grantsOf } from '../cli-helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

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

  const target = await cliWorld(t)
  for (const format of ['csv', 'json']) {
    const file = join(source.dir, `grants.${format}`)
    const exported = await source.cli('export', file, '--json')
    t.same(exported.json, { database: source.database, exported: 4, file, format }, exported.stderr)
    if (format === 'csv') t.match(await readFile(file, 'utf8'), /^granteeKind,granteeId,resource,id,privilege,grantedBy,grantedAt,expiresAt,startsAt\n/)
    // Without --actor, each row's grantedBy is who granted it, in the table and the audit trail.
    const imported = await target.cli('import', file, '--json')
    t.equal(imported.code, 0, imported.stderr)
    // The second format brings the same grants: all already there.
    t.same(imported.json, { database: target.database, ...format === 'csv' ? { rows: 4, created: 4, existing: 0 } : { rows: 4, created: 0, existing: 4 } })
    t.same(await grantsOf(target), expected, `${format}: the grants came back as they were`)
  }
  const filtered = await source.cli('export', '--format', 'csv', '--resource', 'folder')
  t.equal(filtered.stdout.trim().split('\n').length, 2, 'the header and the folder grant')
  const bob = await source.cli('export', '--grantee', 'user:bob')
  t.match(JSON.parse(bob.stdout), { grantee: { kind: 'user', id: 'bob' }, resource: 'folder', id: 'f/1' })
})

