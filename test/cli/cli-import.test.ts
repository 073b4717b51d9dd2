// export and import of grants, CSV and JSON Lines: a round trip; and on the
// embedded database, the statistics an import leaves behind.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, grantsOf } from '../cli-helper.js'
import { grantTableMaintained, usingPostgres } from '../helper.js'

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

t.test('on the embedded database, an import leaves the tables analyzed and vacuumed (it runs no autovacuum)', { skip: usingPostgres ? 'PGlite only: on PostgreSQL autovacuum does it' : false }, async (t) => {
  const world = await cliWorld(t)
  const file = join(world.dir, 'grants.csv')
  await writeFile(file, `granteeKind,granteeId,resource,id,privilege,grantedBy,grantedAt,expiresAt,startsAt\n${
    Array.from({ length: 300 }, (_, i) => `user,u${i},document,d${i},read,,,,`).join('\n')}\n`)
  const imported = await world.cli('import', file, '--json')
  t.equal(imported.code, 0, imported.stderr)
  t.same(await world.withDb(async (db) => await grantTableMaintained(db, world.schema)), { statistics: true, allVisible: true },
    'the grant table\'s columns have statistics and its pages are marked all-visible')
})
