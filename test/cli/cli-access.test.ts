// access PRINCIPAL RESOURCE: what a user, anonymous or a group's members may
// use of a type and through what (the service API's access()), every resource
// of it, as a superuser sees it; a page at a time; usage errors exit 2, the
// service's refusals 3; it writes nothing.
import t, { type Test } from 'tap'
import { cliWorld, type CliWorld } from '../cli-helper.js'

t.setTimeout(360_000)

const GRANTS = [
  { grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read' },
  { grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd3', privilege: 'read' },
  { grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd3', privilege: 'edit' },
  { grantee: { kind: 'anonymous' }, resource: 'document', id: 'pub', privilege: 'read' },
  { grantee: { kind: 'user', id: 'dave' }, resource: 'document', id: 's1', privilege: 'read' }
]

async function world (t: Test): Promise<CliWorld> {
  const w = await cliWorld(t)
  const imported = await w.pipe(GRANTS.map((g) => JSON.stringify(g)).join('\n') + '\n', 'import', '-', '--actor', 'ops')
  t.equal(imported.code, 0, imported.stderr)
  t.equal((await w.cli('members', 'add', 'staff', 'user:carol')).code, 0)
  return w
}

const ids = (json: { resources: Array<{ id: string }> }) => json.resources.map((r) => r.id)

t.test('a user\'s access, in words and as JSON, a page at a time', async (t) => {
  const { cli, database } = await world(t)
  const words = await cli('access', 'user:carol', 'document')
  t.equal(words.code, 0, words.stderr)
  t.equal(words.stdout, [
    'd1', '  read: user user:carol',
    'd3', '  read: group group:staff', '  edit: group group:staff',
    'pub', '  read: anonymous anonymous', ''
  ].join('\n'))
  const json = await cli('access', 'user:carol', 'document', '--json')
  t.equal(json.code, 0, json.stderr)
  t.match(json.json, { database, resource: 'document', principal: { kind: 'user', id: 'carol', groups: [] }, privilege: 'read', all: false, next: null })
  t.same(ids(json.json), ['d1', 'd3', 'pub'])
  t.same(ids((await cli('access', 'user:carol', 'document', '--privilege', 'edit', '--json')).json), ['d3'], '--privilege says what counts as use')
  const first = await cli('access', 'user:carol', 'document', '--limit', '2')
  t.match(first.stdout, /^more: --after d3$/m)
  const rest = await cli('access', 'user:carol', 'document', '--limit', '2', '--after', 'd3', '--json')
  t.same([ids(rest.json), rest.json.next], [['pub'], null])
  t.same(ids((await cli('access', 'user:erin', 'document', '--group', 'staff', '--json')).json), ['d3', 'pub'], "--group: a token's group")
  t.same(ids((await cli('access', 'anonymous', 'document', '--json')).json), ['pub'])
  t.match((await cli('access', 'user:nobody', 'page')).stdout, /^user:nobody may use no page$/m)
})

t.test('a group\'s access: what its members get through it; every resource, as a superuser sees it', async (t) => {
  const { cli } = await world(t)
  const staff = await cli('access', 'group:staff', 'document', '--json')
  t.equal(staff.code, 0, staff.stderr)
  t.same(ids(staff.json), ['d3'], 'grants to everyone are not the group\'s')
  t.match(staff.json.principal, { kind: 'group', id: 'staff' })
  t.same(ids((await cli('access', 'user:dave', 'document', '--json')).json), ['pub', 's1'], 'the tool sees it all')
  t.equal((await cli('grant', 'user:root', 'read', 'document', '--type-level')).code, 0)
  const all = await cli('access', 'user:root', 'document')
  t.match(all.stdout, /^every document is usable \(a type-level grant or superuser status\); the known ones:\nd1\n {2}read: user user:root \(type-level\)/m)
})

t.test('bad input: usage errors exit 2, refusals 3 naming the field; nothing is written', async (t) => {
  const { cli } = await world(t)
  const audit = async () => (await cli('audit', '--json', '--limit', '1000')).json.entries.length
  const before = await audit()
  const cases: Array<[string[], number, RegExp]> = [
    [['access', 'bob', 'document'], 2, /principal 'bob': expected 'user:ID', 'group:ID' or 'anonymous'/],
    [['access', 'group:', 'document'], 2, /principal 'group:'/],
    [['access', 'group:staff', 'document', '--group', 'x'], 2, /--group is for a user/],
    [['access', 'user:carol', 'document', '--limit', '0'], 2, /--limit '0': expected a whole number from 1 to 100/],
    [['access', 'user:carol', 'document', '--privilege', 'wirte'], 3, /privilege must be one of read, edit, delete, manage \(got "wirte"\)/],
    [['access', 'user:carol', 'documnet'], 3, /resource "documnet" is not a known resource type \(did you mean "document"\?\)/],
    [['access', 'user:carol'], 2, /missing required argument 'resource'/]
  ]
  for (const [args, code, message] of cases) {
    const out = await cli(...args)
    t.equal(out.code, code, args.join(' '))
    t.match(out.stderr, message, args.join(' '))
  }
  const json = await cli('access', 'user:carol', 'document', '--privilege', 'wirte', '--json')
  t.match(json.json, { error: { exitCode: 3, code: 'FST_DEFAULT_DENY_INVALID_GRANT' } })
  t.equal(await audit(), before, 'no audit entry: nothing was written')
})
