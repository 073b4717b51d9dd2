// The README's fixture (section "Policy tests") is a valid fixture, and
// every assertion in it holds, its route assertion on an app through --app's
// builder: the example in the README stays true.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import '../helper.js'
import { ROOT } from '../cli-helper.js'
import { formatReport, runPolicyTests } from '../../lib/testing/index.js'
import { covered } from '../fixtures/policy-app.js'

t.setTimeout(240_000)

t.test("the README's fixture holds", async (t) => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Policy tests'))
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
  if (yaml === undefined) throw new Error('no YAML block in the README\'s "Policy tests"')
  const dir = await mkdtemp(join(tmpdir(), 'dd-policy-readme-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'documents.yaml'), yaml)
  const run = await runPolicyTests('documents.yaml', { app: covered, cwd: dir })
  t.equal(run.invalid, 0, formatReport(run))
  t.equal(run.failed, 0, formatReport(run))
  t.equal(run.passed, 9)
  t.same(run.fixtures[0]?.assertions.map((a) => a.kind), ['allow', 'deny', 'deny', 'listIds', 'listIds', 'filter', 'explain', 'change', 'route'], 'every kind of assertion is shown')
  t.same(run.coverage, { ok: true, unannotated: [], unexercised: [] })
})
