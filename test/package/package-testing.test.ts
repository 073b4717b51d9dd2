// fastify-default-deny/testing as a user gets it: the packed tarball
// installed in a new project, policyTest from node:test (ESM) and from
// require(), its types under strict TypeScript, the published fixture schema,
// and `npx fastify-default-deny test` on the project's fixtures. Embedded
// PGlite only (DATABASE_URL is not passed on): the same on both backends.
// test runner: from the sources (it packs this repository: npm pack and the
// package's own build must see the real tree, not the runner's compiled one)
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { installProject, pack, run } from '../package-helper.js'

// Packing builds the whole package and installing extracts about ninety packages: minutes on a busy machine.
t.setTimeout(600_000)

const work = await mkdtemp(join(tmpdir(), 'fdd-package-testing-'))
t.teardown(() => rm(work, { recursive: true, force: true }))
const project = join(work, 'project')

const OK = `# yaml-language-server: $schema=../node_modules/fastify-default-deny/schema/policy-test.schema.json
world:
  grants:
    - { grantee: group:staff, privilege: read, resource: document, id: welcome }
assertions:
  - allow: { principal: user:bob, groups: [staff], privilege: read, resource: document, id: welcome }
  - deny: { principal: user:bob, groups: [staff], privilege: edit, resource: document, id: welcome }
`
const WRONG = `{ "world": { "grants": [{ "grantee": "group:staff", "privilege": "read", "resource": "document", "id": "welcome" }] },
  "assertions": [{ "deny": { "principal": "user:bob", "groups": ["staff"], "privilege": "read", "resource": "document", "id": "welcome" } }] }
`
const SOURCES: Record<string, string> = {
  'policies.test.mjs': `import assert from 'node:assert/strict'
import { test } from 'node:test'
import { policyTest, PolicyTestFailure } from 'fastify-default-deny/testing'
test('the policies hold', async () => {
  const run = await policyTest('policies/ok.yaml')
  assert.equal(run.passed, 2)
})
test('a fixture that must fail rejects, with the explain that shows why', async () => {
  await assert.rejects(policyTest(['policies/wrong.json']), (err) => err instanceof PolicyTestFailure && /expected deny, the plugin decided allow\\n.*allowed: group staff holds read/.test(err.message))
})
`,
  'require.cjs': `'use strict'
const { runPolicyTests, FIXTURE_SCHEMA } = require('fastify-default-deny/testing')
const published = require('fastify-default-deny/schema/policy-test.schema.json')
runPolicyTests('policies/*.{yaml,json}').then((run) => {
  console.log(JSON.stringify({ passed: run.passed, failed: run.failed, schema: JSON.stringify(published) === JSON.stringify(FIXTURE_SCHEMA) }))
}, (err) => { console.error(err); process.exitCode = 1 })
`,
  'types.mts': `import { policyTest, runPolicyTests, type PolicyTestRun, type AppBuilder } from 'fastify-default-deny/testing'
import Fastify from 'fastify'
const app: AppBuilder = async ({ db }) => { void db; return Fastify() }
const run: PolicyTestRun = await policyTest(['policies/ok.yaml'], { app, concurrency: 2 })
const failed: number = (await runPolicyTests('policies/*.yaml')).failed + run.failed
// @ts-expect-error: the concurrency is a number
await policyTest('policies/ok.yaml', { concurrency: 'two' })
export { failed }
`
}

t.test('a new project with the tarball, fixtures and tests of its own', async (t) => {
  const packed = await pack(work)
  await installProject(project, packed, ['fastify', '@fastify/jwt', '@electric-sql/pglite', 'typescript', '@types/node'])
  await mkdir(join(project, 'policies'))
  await writeFile(join(project, 'policies', 'ok.yaml'), OK)
  await writeFile(join(project, 'policies', 'wrong.json'), WRONG)
  for (const [name, text] of Object.entries(SOURCES)) await writeFile(join(project, name), text)
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, exactOptionalPropertyTypes: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], skipLibCheck: true, noEmit: true },
    files: ['types.mts']
  }))
  const schema = JSON.parse(await readFile(join(project, 'node_modules/fastify-default-deny/schema/policy-test.schema.json'), 'utf8'))
  t.equal(schema.title, 'fastify-default-deny policy test', 'the schema is in the installed package')
})

t.test('from node:test, from require(), and its types', async (t) => {
  const node = (...args: string[]) => run(process.execPath, args, project, {}, 300_000)
  const [tested, required, tsc] = await Promise.all([
    node('--test', 'policies.test.mjs'), node('require.cjs'), node('node_modules/typescript/bin/tsc', '-p', 'tsconfig.json')
  ])
  t.equal(tested.code, 0, `${tested.stdout}${tested.stderr}`)
  t.match(tested.stdout, /# pass 2\n# fail 0/)
  t.equal(required.code, 0, required.stderr)
  t.same(JSON.parse(required.stdout.trim().split('\n').at(-1) ?? 'null'), { passed: 2, failed: 1, schema: true })
  t.equal(tsc.code, 0, tsc.stdout)
})

t.test('npx fastify-default-deny test', async (t) => {
  const npx = (...args: string[]) => run('npx', ['--no', '--', 'fastify-default-deny', 'test', ...args], project, {}, 300_000)
  const passing = await npx('policies/ok.yaml')
  t.equal(passing.code, 0, passing.stderr)
  t.match(passing.stdout, /^2 assertions passed, 0 failed \(1 fixture\)$/m)
  const failing = await npx('policies/*', '--reporter', 'junit')
  t.equal(failing.code, 6, failing.stderr)
  t.match(failing.stdout, /<testsuites name="fastify-default-deny policy tests" tests="3" failures="1">/)
})
