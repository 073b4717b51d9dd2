// The check at ready: findings are logged; with NODE_ENV=production an
// error finding not acknowledged stops start-up with FST_DEFAULT_DENY_INSECURE;
// the `acknowledge` option takes only known ids.
import t from 'tap'
import type { FastifyServerOptions } from 'fastify'
import type { SecurityFindingId } from '../../fastify-plugin.js'
import { logCapture, readyWith, usingPostgres } from '../helper.js'
import { ids, inProduction, secured } from '../security-helper.js'

// On PostgreSQL the tests connect as the superuser postgres: one more error.
const DB_ERRORS: SecurityFindingId[] = usingPostgres ? ['db-superuser'] : []

t.test('warnings are logged at ready, one line per finding, with its id and hint', async (t) => {
  const logs = logCapture('info')
  const app = await secured(t, { server: { logger: logs.logger }, jwt: { secret: 'changeme' } })
  t.same(logs.lines.filter((line) => line.finding !== undefined), [], 'nothing before ready')
  await app.ready()
  const logged = logs.lines.filter((line) => line.finding !== undefined)
  const found = await app.permissions.checkSecurity()
  t.same(logged.map((line) => line.finding), ids(found), 'every finding, in report order')
  t.ok(logged.every((line) => line.level === 40), 'at warn level')
  t.match(logged.find((line) => line.finding === 'jwt-sample-secret'), {
    level: 40, msg: /^fastify-default-deny: @fastify\/jwt verifies tokens signed with a well-known sample secret/, hint: /random secret/
  })
  t.ok(ids(found).includes('jwt-algorithms-unpinned') && ids(found).includes('grant-api-no-rate-limit'))
})

t.test('acknowledged findings are logged at info, not as warnings', async (t) => {
  const logs = logCapture('info')
  const app = await secured(t, { server: { logger: logs.logger }, plugin: { acknowledge: ['grant-api-no-rate-limit', 'no-superuser'] } })
  await app.ready()
  const line = (id: string) => logs.lines.find((entry) => entry.finding === id)
  t.match(line('grant-api-no-rate-limit'), { level: 30, msg: /acknowledged: / })
  t.match(line('no-superuser'), { level: 30 })
  const found = await app.permissions.checkSecurity()
  t.same(found.filter((finding) => finding.acknowledged).map((finding) => finding.id), ['grant-api-no-rate-limit', 'no-superuser'])
})

t.test('production: an error finding stops start-up, naming every blocking id', async (t) => {
  inProduction(t)
  const app = await secured(t, { server: { trustProxy: true } as FastifyServerOptions })
  const err = await app.ready().then(() => null, (e: Error & { code?: string, statusCode?: number }) => e)
  t.equal(err?.code, 'FST_DEFAULT_DENY_INSECURE')
  t.equal(err?.statusCode, 500)
  for (const id of ['trust-proxy-all', 'no-https', ...DB_ERRORS]) t.match(err?.message, id, `names ${id}`)
  t.notMatch(err?.message, /no-superuser|grant-api-no-rate-limit/, 'warnings do not stop start-up')
  const findings = (err as { findings?: Array<{ id: string }> } | null)?.findings ?? []
  t.ok(findings.some((finding) => finding.id === 'trust-proxy-all') && findings.some((finding) => finding.id === 'no-superuser'),
    'the error carries every finding, for a caller that reports rather than serves')
})

t.test('production: acknowledging every error lets it start; an error left out still stops it', async (t) => {
  inProduction(t)
  const all: SecurityFindingId[] = ['trust-proxy-all', 'no-https', ...DB_ERRORS]
  const app = await secured(t, { server: { trustProxy: true } as FastifyServerOptions, plugin: { acknowledge: all } })
  await app.ready()
  const found = await app.permissions.checkSecurity()
  t.same(found.filter((finding) => finding.level === 'error').map((finding) => [finding.id, finding.acknowledged]), all.map((id) => [id, true]))

  const partly = await secured(t, { server: { trustProxy: true } as FastifyServerOptions, plugin: { acknowledge: ['no-https'] } })
  await t.rejects(async () => { await partly.ready() }, { code: 'FST_DEFAULT_DENY_INSECURE', message: /trust-proxy-all/ })
})

t.test('outside production, error findings are logged but start-up goes on', async (t) => {
  const logs = logCapture('warn')
  const app = await secured(t, { server: { trustProxy: true, logger: logs.logger } as FastifyServerOptions })
  await app.ready()
  t.ok(logs.lines.some((line) => line.finding === 'trust-proxy-all' && line.level === 40))
  t.equal((await app.inject({ url: '/nowhere' })).statusCode, 404, 'the app serves')
})

t.test('checkSecurity() can run again at any time after ready', async (t) => {
  const app = await secured(t)
  await app.ready()
  const first = ids(await app.permissions.checkSecurity())
  t.same(ids(await app.permissions.checkSecurity()), first, 'the same answer twice')
  t.notOk(first.includes('db-unchecked'))
})

t.test('the acknowledge option takes only known finding ids', async (t) => {
  for (const [acknowledge, message] of [
    [['no-https', 'no-such-finding'], /'acknowledge' names unknown finding 'no-such-finding'/],
    ['no-https', /'acknowledge' must be a non-empty array of names/],
    [['No-Https'], /'acknowledge' must contain only names/],
    [['no-https', 'no-https'], /'acknowledge' must not repeat a name/]
  ] as const) {
    await t.rejects(readyWith(t, { acknowledge }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message }, JSON.stringify(acknowledge))
  }
  await readyWith(t, { acknowledge: [] })
  await readyWith(t, { acknowledge: ['no-https', 'db-superuser'] })
})
