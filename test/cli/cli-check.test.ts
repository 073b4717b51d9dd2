// check: the security self-check from the command line; exit 4 exactly when
// an error is found that the options do not acknowledge.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, ROOT, runCli } from '../cli-helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

interface Finding { id: string, level: string, acknowledged: boolean }
const errorsIn = (findings: Finding[]) => findings.filter((f) => f.level === 'error' && !f.acknowledged)

t.test('against the options and the database; acknowledged errors pass', async (t) => {
  const { cli, dir } = await cliWorld(t)
  const out = await cli('check', '--json')
  const findings = out.json.findings as Finding[]
  t.equal(out.code, errorsIn(findings).length > 0 ? 4 : 0, out.stderr)
  t.equal(out.json.errors, errorsIn(findings).length)
  t.ok(findings.some((f) => f.id === 'no-superuser'), 'superuserClaim is off by default')
  t.notOk(findings.some((f) => /^(?:routes-|jwt-|no-https)/.test(f.id)), "the tool's own instance is not judged as the app")

  const config = join(dir, 'checked.config.mjs')
  await writeFile(config, `export default { superuserClaim: 'admin', acknowledge: ${JSON.stringify(errorsIn(findings).map((f) => f.id))} }\n`)
  const accepted = await cli('--config', config, 'check')
  t.equal(accepted.code, 0, accepted.stderr)
  t.notMatch(accepted.stdout, /no-superuser/)
  if (errorsIn(findings).length > 0) t.match(accepted.stdout, /^acknowledged error {2}/m)
})

t.test('--app: the whole app, routes and @fastify/jwt included', async (t) => {
  const { env, schema } = await cliWorld(t, { migrate: false })
  // The app is TypeScript, importing the plugin's sources, and reads its
  // process's environment (CHECK_SCHEMA): a process of its own, from the sources.
  const out = await runCli(['check', '--app', join(ROOT, 'test', 'fixtures', 'cli-check-app.ts'), '--json'], { ...env, CHECK_SCHEMA: schema }, undefined, { sources: true })
  const findings = out.json.findings as Finding[]
  t.equal(out.code, errorsIn(findings).length > 0 ? 4 : 0, out.stderr)
  t.ok(findings.some((f) => f.id === 'routes-unannotated'), 'GET /forgotten')
  t.ok(findings.some((f) => f.id === 'jwt-algorithms-unpinned'))
  const missing = await runCli(['check', '--app', join(ROOT, 'test', 'fixtures', 'nope.ts')], env)
  t.equal(missing.code, 2)
  t.match(missing.stderr, /--app .*nope\.ts/)
})
