// browse RESOURCE: the known resources of a type (the service API's
// browse()), every one of them, as a superuser sees it, with owner and grant
// count, a page at a time, the prefix as plain text; usage errors exit 2, the
// service's refusals 3; it writes nothing.
import t, { type Test } from 'tap'
import { sql } from 'kysely'
import { cliWorld, type CliWorld } from '../cli-helper.js'

t.setTimeout(360_000)

async function world (t: Test): Promise<CliWorld> {
  const w = await cliWorld(t)
  const grants = [['carol', 'a1'], ['dave', 'a1'], ['carol', 'a_c'], ['carol', 'ab'], ['erin', 'b1']]
    .map(([user, id]) => JSON.stringify({ grantee: { kind: 'user', id: user }, resource: 'document', id, privilege: 'read' }))
  const imported = await w.pipe(`${grants.join('\n')}\n`, 'import', '-', '--actor', 'ops')
  t.equal(imported.code, 0, imported.stderr)
  // The tool records no owner: the app does (setOwner), here straight into its table.
  await w.withDb(async (db) => {
    await sql`insert into ${sql.id(w.schema, 'default_deny_resource')} (resource_type, resource_id, owner_id) values ('document', 'a1', 'olga'), ('document', 'a%b', 'olga')`.execute(db)
  })
  return w
}

const ids = (json: { resources: Array<{ id: string }> }) => json.resources.map((r) => r.id)

t.test('every known resource, in words and as JSON, a page at a time; the prefix as text', async (t) => {
  const { cli, database } = await world(t)
  const words = await cli('browse', 'document')
  t.equal(words.code, 0, words.stderr)
  t.equal(words.stdout, [
    'a%b  owner: olga  grants: 0', 'a1  owner: olga  grants: 2', 'a_c  owner: (none)  grants: 1',
    'ab  owner: (none)  grants: 1', 'b1  owner: (none)  grants: 1', ''
  ].join('\n'))
  const json = await cli('browse', 'document', '--limit', '2', '--json')
  t.equal(json.code, 0, json.stderr)
  t.same(json.json, {
    database,
    resource: 'document',
    prefix: '',
    resources: [{ id: 'a%b', owner: 'olga', grants: 0 }, { id: 'a1', owner: 'olga', grants: 2 }],
    next: 'a1'
  })
  t.match((await cli('browse', 'document', '--limit', '2')).stdout, /^more: --after a1$/m)
  t.same(ids((await cli('browse', 'document', '--after', 'a1', '--json')).json), ['a_c', 'ab', 'b1'])
  t.same(ids((await cli('browse', 'document', '--prefix', 'a_', '--json')).json), ['a_c'], '_ is itself')
  t.same(ids((await cli('browse', 'document', '--prefix', 'a%', '--json')).json), ['a%b'], '% is itself')
  t.match((await cli('browse', 'document', '--prefix', 'zz')).stdout, /^no known document whose id starts with "zz"$/m)
  t.match((await cli('browse', 'page')).stdout, /^no known page$/m)
})

t.test('bad input: usage errors exit 2, refusals 3 naming the field; nothing is written', async (t) => {
  const { cli } = await world(t)
  const audit = async () => (await cli('audit', '--json', '--limit', '1000')).json.entries.length
  const before = await audit()
  const cases: Array<[string[], number, RegExp]> = [
    [['browse'], 2, /missing required argument 'resource'/],
    [['browse', 'document', '--limit', '101'], 2, /--limit '101': expected a whole number from 1 to 100/],
    [['browse', 'documnet'], 3, /resource "documnet" is not a known resource type \(did you mean "document"\?\)/],
    [['browse', 'document', '--prefix', '\ufeffa'], 3, /prefix must be text an id could start with/]
  ]
  for (const [args, code, message] of cases) {
    const out = await cli(...args)
    t.equal(out.code, code, args.join(' '))
    t.match(out.stderr, message, args.join(' '))
  }
  t.match((await cli('browse', 'documnet', '--json')).json, { error: { exitCode: 3, code: 'FST_DEFAULT_DENY_INVALID_GRANT' } })
  t.equal(await audit(), before, 'no audit entry: nothing was written')
})
