// Each fixture runs in a fresh world of its own: what one fixture's world
// holds (a grant, an owner, a membership) is never seen by another run beside
// it or after it, and the same ids in two fixtures are two resources.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import '../helper.js'
import { runPolicyTests } from '../../lib/testing/index.js'

t.setTimeout(240_000)

const dir = await mkdtemp(join(tmpdir(), 'dd-policy-isolation-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

const FULL = `name: a world with grants
world:
  members:
    - { group: staff, member: user:carol }
  owners:
    - { resource: document, id: d2, owner: alice }
  grants:
    - { grantee: user:bob, privilege: read, resource: document, id: d1 }
    - { grantee: group:staff, privilege: read, resource: document, id: d3 }
assertions:
  - allow: { principal: user:bob, privilege: read, resource: document, id: d1 }
  - allow: { principal: user:alice, privilege: edit, resource: document, id: d2 }
  - allow: { principal: user:carol, privilege: read, resource: document, id: d3 }
`
const EMPTY = `name: the same ids, nothing granted
options: { resources: [document] }
world: {}
assertions:
  - deny: { principal: user:bob, privilege: read, resource: document, id: d1 }
  - deny: { principal: user:alice, privilege: edit, resource: document, id: d2 }
  - deny: { principal: user:carol, privilege: read, resource: document, id: d3 }
  - listIds: { principal: user:bob, privilege: read, resource: document }
    ids: []
  - listIds: { principal: user:alice, privilege: read, resource: document }
    ids: []
`

t.test('fixtures side by side and one after another share nothing', async (t) => {
  const full = join(dir, 'full.yaml')
  const empty = join(dir, 'empty.yaml')
  await writeFile(full, FULL)
  await writeFile(empty, EMPTY)
  const beside = await runPolicyTests([full, empty], { concurrency: 2 })
  const failures = (run: typeof beside) => run.fixtures.flatMap((f) => f.assertions.filter((a) => !a.ok).map((a) => `${f.file}: ${JSON.stringify(a)}`))
  t.same(failures(beside), [], 'no assertion failed')
  t.match(beside, { ok: true, passed: 8, failed: 0, invalid: 0 }, 'at the same time')
  const after = await runPolicyTests([full, empty], { concurrency: 1 })
  t.match(after, { ok: true, passed: 8, failed: 0, invalid: 0 }, 'one after the other, in one run')
})
