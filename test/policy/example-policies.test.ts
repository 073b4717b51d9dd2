// The example's own policy tests (examples/policies/), run on the example
// app as `fastify-default-deny test … --app examples/policy-app.ts` runs
// them: every assertion holds, and route coverage finds only the route the
// example leaves unannotated on purpose (GET /forgotten, always denied).
import t from 'tap'
import '../helper.js'
import { formatReport, runPolicyTests } from '../../lib/testing/index.js'
import examplePolicyApp from '../../examples/policy-app.js'
import { ROOT } from '../cli-helper.js'

t.setTimeout(360_000)

t.test("the example's fixtures hold on the example app", async (t) => {
  const run = await runPolicyTests('examples/policies/*.yaml', { app: examplePolicyApp, cwd: ROOT })
  t.same(run.fixtures.map((f) => f.file), ['examples/policies/handbook.yaml', 'examples/policies/welcome.yaml'])
  t.equal(run.invalid, 0, formatReport(run))
  t.equal(run.failed, 0, formatReport(run))
  t.equal(run.passed, 24)
  t.same(run.coverage, { ok: false, unannotated: ['GET /forgotten'], unexercised: [] }, 'every resource type is exercised; only /forgotten is unannotated')
})
