// A fixture's options shape its decisions as the plugin's would: what an
// owner holds (ownerPrivileges), how deep stored groups nest (groupDepth),
// what anonymous may hold (anonymousPrivileges); the same world without them
// decides by the defaults.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import '../helper.js'
import { runPolicyTests } from '../../lib/testing/index.js'

t.setTimeout(240_000)

const dir = await mkdtemp(join(tmpdir(), 'dd-policy-options-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

const WORLD = `world:
  members:
    - { group: staff, member: group:interns }
    - { group: interns, member: user:bob }
  owners:
    - { resource: document, id: d1, owner: alice }
  grants:
    - { grantee: group:staff, privilege: read, resource: document, id: d1 }
`

t.test('options change the decisions; without them the defaults decide', async (t) => {
  const shaped = join(dir, 'shaped.yaml')
  await writeFile(shaped, `name: shaped by its options
options:
  privileges: [read, edit, manage]
  ownerPrivileges: [read]
  groupDepth: 1
  anonymousPrivileges: [read, edit]
${WORLD}assertions:
  - allow: { principal: user:alice, privilege: read, resource: document, id: d1 }
  - deny: { principal: user:alice, privilege: edit, resource: document, id: d1 }
    description: the owner holds only ownerPrivileges
  - deny: { principal: user:bob, privilege: read, resource: document, id: d1 }
    description: with groupDepth 1, staff's grant does not reach interns' members
  - change: { as: user:bob, resource: document, id: d1, grant: { grantee: anonymous, privilege: edit } }
    refused: FST_DEFAULT_DENY_FORBIDDEN
    description: anonymous may hold edit here, so the refusal is bob's not managing d1
`)
  const defaults = join(dir, 'defaults.yaml')
  await writeFile(defaults, `name: the same world, default options
${WORLD}assertions:
  - allow: { principal: user:alice, privilege: edit, resource: document, id: d1 }
  - allow: { principal: user:bob, privilege: read, resource: document, id: d1 }
  - change: { as: user:bob, resource: document, id: d1, grant: { grantee: anonymous, privilege: edit } }
    refused: FST_DEFAULT_DENY_INELIGIBLE
    description: by default anonymous may hold only read
`)
  const run = await runPolicyTests([shaped, defaults], { concurrency: 1 })
  t.same(run.fixtures.flatMap((f) => f.assertions.filter((a) => !a.ok).map((a) => `${f.file}: ${JSON.stringify(a)}`)), [], 'no assertion failed')
  t.match(run, { ok: true, passed: 7, failed: 0, invalid: 0 })
})
