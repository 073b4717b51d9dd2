// An invalid fixture is refused with the file, the path in the document (and
// the line, in YAML) and the rule it breaks; the options are judged by the
// plugin's own option validation, and a world the plugin refuses names the row.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import '../helper.js'
import { FixtureError, loadFixture, runPolicyTests } from '../../lib/testing/index.js'

t.setTimeout(240_000)

const dir = await mkdtemp(join(tmpdir(), 'dd-policy-bad-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

const ASSERT = 'assertions:\n  - allow: { principal: user:bob, privilege: read, resource: document, id: d1 }\n'

async function refusal (name: string, text: string): Promise<FixtureError> {
  const file = join(dir, name)
  await writeFile(file, text)
  try {
    await loadFixture(file)
  } catch (err) {
    if (err instanceof FixtureError) return err
    throw err
  }
  throw new Error(`${name} was accepted`)
}

const CASES: Array<[string, string, string, RegExp, number?]> = [
  ['not YAML', 'a: [1, 2\n', '', /^is not valid YAML: /, 2],
  ['not JSON', '{ "assertions": [ }', '', /^is not valid JSON: /],
  ['a key twice', `name: a\nname: b\n${ASSERT}`, '', /^is not valid YAML: Map keys must be unique/, 2],
  ['an unknown key', `nmae: typo\n${ASSERT}`, '/nmae', /^'nmae' is not allowed here \(allowed: \$schema, name, options, clock, world, assertions\)$/, 1],
  ['no assertions', 'name: nothing\n', '', /^'assertions' is required$/, 1],
  ['an empty list of assertions', 'assertions: []\n', '/assertions', /^must have at least 1 item$/, 1],
  ['a principal that is not one', 'assertions:\n  - allow: { principal: bob, privilege: read, resource: document, id: d1 }\n', '/assertions/0/allow/principal', /^must be 'user:ID' or 'anonymous' \(got "bob"\)$/, 2],
  ['an assertion of no known kind', 'assertions:\n  - permit: { principal: user:bob }\n', '/assertions/0', /^must say what it asserts: one of allow, deny, listIds, filter, explain, change, route$/, 2],
  ['two kinds in one assertion', 'assertions:\n  - allow: { principal: user:bob, privilege: read, resource: document, id: d1 }\n    deny: { principal: user:bob, privilege: read, resource: document, id: d1 }\n', '/assertions/0', /^asserts one thing: allow and deny given$/, 2],
  ['a filter without what it keeps', 'assertions:\n  - filter: { principal: user:bob, privilege: read, resource: document, rows: [a] }\n', '/assertions/0', /^'keeps' is required$/, 2],
  ['a change of two things', 'assertions:\n  - change: { as: user:bob, resource: document, id: d1, owner: eve, revoke: { grantee: user:carol, privilege: read } }\n    refused: FST_DEFAULT_DENY_FORBIDDEN\n', '/assertions/0/change', /^must have exactly one of grant, revoke, owner$/, 2],
  ['a grantee that is not one', `world:\n  grants:\n    - { grantee: team:x, privilege: read, resource: document, id: d1 }\n${ASSERT}`, '/world/grants/0/grantee', /^must be 'user:ID', 'group:ID' or 'anonymous' \(got "team:x"\)$/, 3],
  ['a date not on the calendar', `clock: 2027-02-30T00:00:00Z\n${ASSERT}`, '/clock', /^must be a date that exists on the calendar \(got "2027-02-30T00:00:00Z"\)$/, 1],
  ['a date in no form', `world:\n  grants:\n    - { grantee: user:bob, privilege: read, resource: document, id: d1, expiresAt: tomorrow }\n${ASSERT}`, '/world/grants/0/expiresAt', /^must be an ISO 8601 date-time with an offset \(2027-01-31T12:00:00Z\), or a date \(2027-01-31, midnight UTC\): the grant counts until then \(got "tomorrow"\)$/, 3],
  ['an option the plugin refuses', `options:\n  privileges: read\n${ASSERT}`, '/options/privileges', /^option 'privileges' /, 2],
  ['an implies that does not resolve', `options:\n  privileges: [read, edit]\n  implies: { edit: [wirte] }\n${ASSERT}`, '/options/implies/edit', /^option 'implies.edit' names unknown privilege 'wirte'$/, 3],
  ['an option a fixture cannot set', `options:\n  connectionString: postgres://db/app\n${ASSERT}`, '/options/connectionString', /^'connectionString' is not allowed here/, 2]
]

for (const [name, text, path, rule, line] of CASES) {
  t.test(name, async (t) => {
    const file = `${name.replaceAll(' ', '-')}.${name === 'not JSON' ? 'json' : 'yaml'}`
    const error = await refusal(file, text)
    t.equal(error.file, join(dir, file), 'names the file')
    t.equal(error.path, path, 'names the path in the document')
    t.match(error.rule, rule, 'says the rule')
    if (line !== undefined) t.equal(error.line, line, 'and the line')
    t.match(error.message, `${join(dir, file)}${line === undefined ? '' : `:${line}`}: `)
  })
}

t.test('a world the plugin refuses names its row, and the fixture does not run', async (t) => {
  const grant = join(dir, 'bad-grant.yaml')
  await writeFile(grant, `options: { privileges: [read] }\nworld:\n  grants:\n    - { grantee: user:bob, privilege: read, resource: document, id: d1 }\n    - { grantee: user:bob, privilege: edit, resource: document, id: d2 }\n${ASSERT}`)
  const parent = join(dir, 'bad-parent.yaml')
  await writeFile(parent, `world:\n  parents:\n    - { resource: document, id: d1, parent: folder:f1 }\n${ASSERT}`)
  const run = await runPolicyTests([grant, parent], { concurrency: 2 })
  t.equal(run.invalid, 2)
  t.equal(run.ok, false)
  const [grantError, parentError] = run.fixtures.map((f) => f.error as FixtureError)
  t.equal(grantError?.path, '/world/grants/1')
  t.equal(grantError?.line, 5, 'and its line')
  t.match(grantError?.rule, /^was refused by the plugin: .*privilege must be one of read, manage \(got "edit"\)/)
  t.equal(parentError?.path, '/world/parents/0')
  t.equal(parentError?.line, 3)
  t.match(parentError?.rule, /^was refused by the plugin: /)
  t.same(run.fixtures.map((f) => f.assertions), [[], []], 'no assertion ran')
})
