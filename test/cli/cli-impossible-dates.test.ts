// A date that does not exist is refused (exit 2 on the command line, the row
// named on import), never rolled over into a later day: 2027-02-30 would
// otherwise grant access until March 2nd.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, grantsOf } from '../cli-helper.js'

t.setTimeout(360_000)

t.test('grant --expires 2027-02-30 exits 2; import refuses 2027-04-31 by line; nothing written', async (t) => {
  const world = await cliWorld(t)
  const grant = await world.cli('grant', 'user:alice', 'read', 'document', 'd1', '--expires', '2099-02-30')
  t.equal(grant.code, 2)
  t.match(grant.stderr, /--expires '2099-02-30': expected an ISO 8601 date .* that exists on the calendar/)
  const file = join(world.dir, 'grants.jsonl')
  await writeFile(file, [
    JSON.stringify({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: 'd2', privilege: 'read' }),
    JSON.stringify({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd3', privilege: 'read', expiresAt: '2099-04-31T10:00:00Z' })
  ].join('\n') + '\n')
  const imported = await world.cli('import', file)
  t.equal(imported.code, 3)
  t.match(imported.stderr, /line 2: .*expiresAt '2099-04-31T10:00:00Z': expected .* that exists on the calendar/)
  t.same(await grantsOf(world), [], 'nothing was written')
})
