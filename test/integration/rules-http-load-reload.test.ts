// Behaviours 33, 34 and 60 through the plugin: invalid rules stop startup,
// a site file replaces the default file, and reloads (by call or by file
// watch) swap valid rules and keep the old ones when the new are invalid.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import jwt from '@fastify/jwt'
import defaultDeny from '../../lib/index.js'
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import { build, SECRET, testDatabase } from '../helper.js'
import { captureLogs } from '../fixtures/tls/helpers.js'

function tempDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dd-rules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const blocking = (...keys: string[]) => JSON.stringify({
  paths: Object.fromEntries(keys.map(key => [key, 'blocked'])),
  groups: { blocked: { type: 'block' } }
})

/** Starts an app with these plugin options and resolves with ready()'s outcome. */
async function start (t: Test, options: Partial<FastifyDefaultDenyOptions>): Promise<FastifyInstance> {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close().catch(() => {}))
  await app.register(jwt, { secret: SECRET })
  void app.register(defaultDeny, { db, schema, ...options })
  await app.ready()
  return app
}

/** Public routes /a/x, /b/x, … : only the rules decide. */
function routes (app: FastifyInstance, ran: string[]): void {
  for (const prefix of ['a', 'b', 'c', 'd', 'only-default', 'site-only']) {
    app.get(`/${prefix}/x`, { config: { permission: 'public' } }, async () => { ran.push(prefix); return 'ok' })
  }
}

async function statusOf (app: FastifyInstance, url: string): Promise<number> {
  return (await app.inject({ url })).statusCode
}

/** Polls until `check` holds, for at most `ms`. */
async function eventually (check: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(25)
  }
  return await check()
}

t.test('invalid rules make ready() fail with FST_DEFAULT_DENY_INVALID_RULES (behaviour 33)', async t => {
  const dir = tempDir(t)
  const broken = join(dir, 'broken.rules')
  writeFileSync(broken, '{ "paths": { "a/": "t" }, "groups": { "t": { "type": "token", "header": "X-T", "value": "tok-SECRET-in-file" } }, ')
  const cases: Array<[string, Partial<FastifyDefaultDenyOptions>, RegExp]> = [
    ['invalid JSON in the file', { rulesFile: broken }, /is not valid JSON/],
    ['a missing file', { rulesFile: join(dir, 'missing.rules') }, /does not exist/],
    ['an unknown rule type', { rules: { paths: { 'admin/': 'admin' }, groups: { admin: { type: 'useraccess', level: 'admin' } } } as never },
      /groups\.admin\.type: unknown rule type "useraccess"/],
    ['an undefined group', { rules: { paths: { 'a/': 'nope' }, groups: {} } }, /paths\.a\/: undefined group "nope"/],
    ['an empty array', { rules: { paths: { 'a/': 'g' }, groups: { g: [] } } }, /groups\.g: empty array/],
    ['an empty alternative', { rules: { paths: { 'a/': 'g' }, groups: { g: [[{ type: 'open' }], []] } } }, /empty array/],
    ['a mixed array', { rules: { paths: { 'a/': 'g' }, groups: { g: [[{ type: 'open' }], { type: 'open' }] } } as never }, /mixes rules and arrays/],
    ['arrays three deep', { rules: { paths: { 'a/': 'g' }, groups: { g: [[[{ type: 'open' }]]] } } as never }, /two deep/],
    ['an unsafe regular expression', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'open', param_x: '^(a+)+$' } } } }, /groups\.g\.param_x/],
    ['an unsafe certificate name', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'cert', name: '(a|aa)*' } } } }, /groups\.g\.name/],
    ['elevate to admin', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'open', elevate: 'admin' } } } }, /groups\.g\.elevate: cannot elevate to "admin"/],
    ['elevate to superuser', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'open', elevate: 'superuser' } } } }, /cannot elevate/],
    ['an unknown modifier', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'open', sticky: true } } } as never }, /unknown property "sticky"/],
    ['deny on a block rule', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'block', deny: true } } } as never }, /"deny" is only allowed/],
    ['an invalid IP', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'whitelist', list: ['127.1'] } } } }, /groups\.g\.list\[0\]/],
    ['a token with spaces', { rules: { paths: { 'a/': 'g' }, groups: { g: { type: 'token', header: 'X-T', value: ' tok ' } } } }, /whitespace/],
    ['a path trick in a key', { rules: { paths: { 'a/../b': 'g' }, groups: { g: { type: 'block' } } } }, /invalid path key/]
  ]
  for (const [what, options, message] of cases) {
    const error = await start(t, options).then(() => null, (err: Error & { code?: string }) => err)
    t.equal(error?.code, 'FST_DEFAULT_DENY_INVALID_RULES', `${what}: code`)
    t.match(error?.message, message, `${what}: message points at the entry`)
    t.notMatch(error?.message ?? '', /tok-SECRET-in-file/, `${what}: the file content is not quoted`)
  }
})

t.test('a site file replaces the default file (behaviour 34)', async t => {
  const dir = tempDir(t)
  const defaults = join(dir, 'default.rules')
  const site = join(dir, 'site.rules')
  writeFileSync(defaults, blocking('only-default/'))
  writeFileSync(site, blocking('site-only/'))

  const { app } = await build(t, { rulesFile: defaults, siteRulesFile: site })
  const ran: string[] = []
  routes(app, ran)
  t.equal(await statusOf(app, '/only-default/x'), 200, 'a rule only in the default file has no effect')
  t.equal(await statusOf(app, '/site-only/x'), 403, 'the site file is in force')
  t.same(ran, ['only-default'])

  // Control: without the site file the default file is in force.
  const fallback = await build(t, { rulesFile: defaults, siteRulesFile: join(dir, 'no-site.rules') })
  routes(fallback.app, [])
  t.equal(await statusOf(fallback.app, '/only-default/x'), 403)
  t.equal(await statusOf(fallback.app, '/site-only/x'), 200)

  // The default file is not even read when a site file exists.
  const broken = join(dir, 'broken-default.rules')
  writeFileSync(broken, '{ nope')
  await t.resolves(start(t, { rulesFile: broken, siteRulesFile: site }), 'a broken default file does not matter')
})

t.test('reloadRules(): a broken file keeps the old rules; a valid one swaps (behaviour 60)', async t => {
  const dir = tempDir(t)
  const file = join(dir, 'security.rules')
  writeFileSync(file, blocking('a/'))
  const { app } = await build(t, { rulesFile: file })
  const ran: string[] = []
  routes(app, ran)
  const first = app.permissions.rulesStatus()
  t.equal(first?.lastError, null)
  t.ok(first?.loadedAt instanceof Date)
  t.equal(await statusOf(app, '/a/x'), 403)
  t.equal(await statusOf(app, '/b/x'), 200)

  for (const [what, content, message] of [
    ['invalid JSON', '{ "paths": ', /not valid JSON/],
    ['an unknown rule type', JSON.stringify({ paths: { 'b/': 'g' }, groups: { g: { type: 'useraccess' } } }), /unknown rule type "useraccess"/],
    ['an empty file', '', /not valid JSON/]
  ] as const) {
    writeFileSync(file, content)
    await t.rejects(app.permissions.reloadRules(), { code: 'FST_DEFAULT_DENY_INVALID_RULES' }, `${what}: refused`)
    const status = app.permissions.rulesStatus()
    t.match(status?.lastError, message, `${what}: lastError says why`)
    t.equal(status?.loadedAt.getTime(), first?.loadedAt.getTime(), `${what}: loadedAt unchanged`)
    t.equal(await statusOf(app, '/a/x'), 403, `${what}: the old rules stay in force`)
    t.equal(await statusOf(app, '/b/x'), 200, `${what}: and nothing else`)
  }
  rmSync(file)
  await t.rejects(app.permissions.reloadRules(), { code: 'FST_DEFAULT_DENY_INVALID_RULES' }, 'a deleted file is refused too')
  t.equal(await statusOf(app, '/a/x'), 403)

  await sleep(5)
  writeFileSync(file, blocking('b/'))
  await app.permissions.reloadRules()
  const swapped = app.permissions.rulesStatus()
  t.equal(swapped?.lastError, null, 'lastError cleared')
  t.ok((swapped?.loadedAt.getTime() ?? 0) > (first?.loadedAt.getTime() ?? 0), 'loadedAt moved')
  t.equal(await statusOf(app, '/a/x'), 200, 'the new rules are in force')
  t.equal(await statusOf(app, '/b/x'), 403)

  await app.permissions.reloadRules(JSON.parse(blocking('c/')))
  t.equal(await statusOf(app, '/c/x'), 403, 'reloadRules(source) uses the source')
  t.equal(await statusOf(app, '/b/x'), 200)
  await t.rejects(app.permissions.reloadRules({ paths: { 'a/': 'nope' }, groups: {} }), { code: 'FST_DEFAULT_DENY_INVALID_RULES' })
  t.equal(await statusOf(app, '/c/x'), 403, 'an invalid source keeps the rules')
  t.same(ran, ['b', 'b', 'b', 'b', 'a', 'b'])
})

t.test('reloadRules() without rules configured is refused', async t => {
  const { app } = await build(t)
  t.equal(app.permissions.rulesStatus(), null)
  await t.rejects(app.permissions.reloadRules({ paths: {}, groups: {} }), { code: 'FST_DEFAULT_DENY_INVALID_RULES' })
})

t.test('watchRules picks up a change and ignores a broken write (behaviour 60)', async t => {
  const dir = tempDir(t)
  const file = join(dir, 'security.rules')
  writeFileSync(file, blocking('a/'))
  const logs = captureLogs()
  const { app } = await build(t, { rulesFile: file, watchRules: true }, { logger: { level: 'info', stream: logs.stream } })
  routes(app, [])
  await app.ready()
  t.equal(await statusOf(app, '/a/x'), 403)

  writeFileSync(file, blocking('b/'))
  t.ok(await eventually(async () => await statusOf(app, '/b/x') === 403), 'an in-place write is picked up')
  t.equal(await statusOf(app, '/a/x'), 200)

  writeFileSync(file, '{ "paths": { "c/": ')
  t.ok(await eventually(() => logs.records.some(record => record.level === 50 && /reload refused/.test(String(record.msg)))),
    'a broken write is logged as an error')
  t.match(app.permissions.rulesStatus()?.lastError, /not valid JSON/)
  t.equal(await statusOf(app, '/b/x'), 403, 'the previous rules stay in force')
  t.equal(await statusOf(app, '/c/x'), 200)

  // Editors often save by writing a new file and renaming it over the old one.
  const temp = join(dir, 'security.rules.tmp')
  writeFileSync(temp, blocking('c/'))
  renameSync(temp, file)
  t.ok(await eventually(async () => await statusOf(app, '/c/x') === 403), 'a rename over the file is picked up')
  t.equal(app.permissions.rulesStatus()?.lastError, null)

  // … and the file keeps being watched after such a save.
  writeFileSync(file, blocking('d/'))
  t.ok(await eventually(async () => await statusOf(app, '/d/x') === 403), 'a later in-place write is picked up too')
  writeFileSync(temp, blocking('a/'))
  renameSync(temp, file)
  t.ok(await eventually(async () => await statusOf(app, '/a/x') === 403), 'and a second rename')
})

t.test('watchRules: a site file that appears later replaces the default file', async t => {
  const dir = tempDir(t)
  const defaults = join(dir, 'default.rules')
  const site = join(dir, 'site.rules')
  writeFileSync(defaults, blocking('only-default/'))
  const { app } = await build(t, { rulesFile: defaults, siteRulesFile: site, watchRules: true })
  routes(app, [])
  await app.ready()
  t.equal(await statusOf(app, '/only-default/x'), 403)
  writeFileSync(site, blocking('site-only/'))
  t.ok(await eventually(async () => await statusOf(app, '/site-only/x') === 403), 'the new site file is in force')
  t.equal(await statusOf(app, '/only-default/x'), 200, 'and the default file no longer is')
})
