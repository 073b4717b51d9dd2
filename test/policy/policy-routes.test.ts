// With the host's app: route assertions run through inject on the app built
// on a fresh database of its own, with the fixture's world written through
// its own app.permissions; and route coverage fails for a route without an
// annotation and for a resource type no fixture exercises.
import { join } from 'node:path'
import t from 'tap'
import '../helper.js'
import { childEnv, ROOT, runCli } from '../cli-helper.js'
import { runPolicyTests, type AppBuilder } from '../../lib/testing/index.js'
import withGaps, { covered } from '../fixtures/policy-app.js'

t.setTimeout(360_000)

const FIXTURES = join(ROOT, 'test', 'policy', 'fixtures')
const fixture = (name: string) => join(FIXTURES, name)

t.test('route assertions pass through inject; coverage names the unannotated route and the unexercised type', async (t) => {
  const run = await runPolicyTests([fixture('routes.yaml')], { app: withGaps })
  t.same(run.fixtures[0]?.assertions.map((a) => [a.title, a.ok]), [
    ['GET /documents/:id as user:bob answers 200', true],
    ['GET /documents/:id as user:eve answers 403', true],
    ['no token, no grant to anonymous', true]
  ])
  t.equal(run.failed, 0)
  t.same(run.coverage, {
    ok: false,
    unannotated: ['GET /forgotten'],
    unexercised: [{ resource: 'invoice', routes: ['GET /invoices/:id'] }]
  })
  t.equal(run.ok, false, 'coverage alone fails the run')
})

t.test('a covered app passes', async (t) => {
  const run = await runPolicyTests([fixture('routes.yaml')], { app: covered })
  t.same(run.coverage, { ok: true, unannotated: [], unexercised: [] })
  t.equal(run.ok, true)
})

t.test('types exercised by any kind of assertion count for coverage', async (t) => {
  const run = await runPolicyTests([fixture('documents.yaml')], { app: covered })
  t.equal(run.coverage?.ok, true, 'documents.yaml asks about documents through the service API only')
})

t.test('route assertions that must fail do, with the explain of the app\'s own decision', async (t) => {
  const run = await runPolicyTests([fixture('routes-wrong.yaml')], { app: covered })
  const [denied, noParam, noRoute] = run.fixtures[0]?.assertions ?? []
  t.match(denied, { ok: false, message: 'expected 200, the app answered 403', explain: ['explain user:eve on document/welcome for read: denied: nothing is granted on this resource; the request needs read'] })
  t.match(noParam, { ok: false, message: 'params must give id' })
  t.match(noRoute, { ok: false, message: 'the app has no route DELETE /documents/:id' })
  t.equal(run.failed, 3)
})

t.test('without the app a route assertion fails and says what it needs', async (t) => {
  const run = await runPolicyTests([fixture('routes.yaml')])
  t.equal(run.coverage, null)
  t.equal(run.failed, 3)
  t.match(run.fixtures[0]?.assertions[0], { ok: false, message: /needs the app: run with --app/ })
})

t.test('an app that puts the plugin on a database of its own is refused: the world is never written there', async (t) => {
  const elsewhere: AppBuilder = async () => {
    const { createPGliteKysely } = await import('../../lib/store/pglite.js')
    const db = await createPGliteKysely()
    const app = await covered({ db })
    app.addHook('onClose', async () => { await db.destroy() })
    return app
  }
  await t.rejects(runPolicyTests([fixture('documents.yaml')], { app: elsewhere }), /the app did not register the plugin on the database it was given/)
})

t.test('the command: --app loads the module, exit 6 on a coverage failure', async (t) => {
  // The app is TypeScript importing the plugin's sources: a process of its own, from the sources (as check --app's test).
  const env = { ...childEnv(), DATABASE_URL: '' }
  const out = await runCli(['test', fixture('routes.yaml'), '--app', join(ROOT, 'test', 'fixtures', 'policy-app.ts')], env, undefined, { sources: true })
  t.equal(out.code, 6, out.stderr)
  t.match(out.stdout, /^ {2}ok 1 GET \/documents\/:id as user:bob answers 200$/m)
  t.match(out.stdout, /^route coverage\n {2}FAIL route GET \/forgotten has no annotation: every request to it is denied\n {2}FAIL resource type invoice is never exercised by a fixture \(needed by GET \/invoices\/:id\)$/m)
  const notBuilder = await runCli(['test', fixture('routes.yaml'), '--app', join(ROOT, 'test', 'fixtures', 'cli-check-app.ts')], { ...env, CHECK_SCHEMA: 'public' }, undefined, { sources: true })
  t.equal(notBuilder.code, 2, 'an app on a database of its own is a usage error')
  t.match(notBuilder.stderr, /--app .*cli-check-app\.ts: the app did not register the plugin on the database it was given/)
})
