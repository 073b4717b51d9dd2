// policyTest from a test runner (here tap): it resolves with the run when
// every assertion holds and rejects with a PolicyTestFailure, whose message
// is the report with explain's account of each failure, when one does not.
import { join } from 'node:path'
import t from 'tap'
import '../helper.js'
import { ROOT } from '../cli-helper.js'
import { policyTest, PolicyTestFailure } from '../../lib/testing/index.js'

t.setTimeout(240_000)

const FIXTURES = join(ROOT, 'test', 'policy', 'fixtures')

t.test('fixtures that hold: resolves with the run', async (t) => {
  const run = await policyTest('documents.yaml', { cwd: FIXTURES })
  t.match(run, { ok: true, passed: 12, failed: 0, invalid: 0, coverage: null })
})

t.test('a fixture that must fail: rejects with every failure and its explain', async (t) => {
  const failure = await policyTest(['documents.yaml', 'wrong.yaml'], { cwd: FIXTURES, concurrency: 1 }).then(() => null, (err: unknown) => err)
  t.ok(failure instanceof PolicyTestFailure)
  const { run, message } = failure as PolicyTestFailure
  t.match(run, { ok: false, passed: 12, failed: 6 })
  t.match(message, /^policy tests failed:\n/)
  t.match(message, /FAIL 1 deny user:bob read on document\/welcome\n {7}expected deny, the plugin decided allow\n {7}explain user:bob on document\/welcome for read: allowed: group staff holds read/)
  t.match(message, /12 assertions passed, 6 failed \(2 fixtures\)\n$/)
})

t.test('an invalid fixture rejects too, naming it', async (t) => {
  await t.rejects(policyTest(join(ROOT, 'package.json')), /invalid: .*package\.json: \(the document\): 'assertions' is required/)
})
