// What the self-check reads from Fastify: trustProxy, TLS, the logger's
// level and the error handler; and whether endpoint rules keep the grant
// API off plain HTTP.
import t from 'tap'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { EndpointRules } from '../../fastify-plugin.js'
import { logCapture } from '../helper.js'
import { ids, inProduction, secured } from '../security-helper.js'

const SERVER_FINDINGS = ['trust-proxy-all', 'no-https', 'logger-verbose', 'custom-error-handler']
// Findings the test acknowledged (the superuser the tests connect as on PostgreSQL, say) are left out.
const serverFindings = async (app: FastifyInstance) =>
  ids((await app.permissions.checkSecurity()).filter((finding) => !finding.acknowledged)).filter((id) => SERVER_FINDINGS.includes(id))

t.test('trustProxy: true trusts every address', async (t) => {
  const app = await secured(t, { server: { trustProxy: true } })
  await app.ready()
  t.same(await serverFindings(app), ['trust-proxy-all'])
  // Fastify itself refuses a /0 range in trustProxy, so only `true` trusts everyone.
  t.throws(() => Fastify({ trustProxy: '0.0.0.0/0' }), /invalid range/)
  for (const trustProxy of [false, ['127.0.0.1'], '10.0.0.0/8', 1]) {
    const app = await secured(t, { server: { trustProxy } as FastifyServerOptions })
    await app.ready()
    t.same(await serverFindings(app), [], `no finding with trustProxy: ${JSON.stringify(trustProxy)}`)
  }
})

t.test('trustProxy: true is logged once at ready, as before', async (t) => {
  const logs = logCapture('warn')
  const app = await secured(t, { server: { trustProxy: true, logger: logs.logger } as FastifyServerOptions })
  t.equal(logs.lines.filter((line) => /trustProxy/.test(String(line.msg))).length, 0, 'nothing at registration')
  await app.ready()
  const lines = logs.lines.filter((line) => /trustProxy/.test(String(line.msg)))
  t.equal(lines.length, 1)
  t.match(lines[0], { level: 40, finding: 'trust-proxy-all', msg: /X-Forwarded/ })
})

t.test('no HTTPS in production: not TLS, and no https-only rule on the grant API', async (t) => {
  inProduction(t)
  const plain = await secured(t, { plugin: { acknowledge: ['db-superuser'] } })
  await t.rejects(async () => { await plain.ready() }, { code: 'FST_DEFAULT_DENY_INSECURE', message: /no-https/ })

  const tls = await secured(t, { server: { https: {} } as FastifyServerOptions, plugin: { acknowledge: ['db-superuser'] } })
  await tls.ready()
  t.same(await serverFindings(tls), [], 'the server speaks TLS')

  const rules: EndpointRules = { paths: { 'permissions/': 'tls' }, groups: { tls: { type: 'open', secure: 1 } } }
  const ruled = await secured(t, { plugin: { rules, acknowledge: ['db-superuser'] } })
  await ruled.ready()
  t.same(await serverFindings(ruled), [], 'TLS ends at a proxy, and a rule refuses plain HTTP on the grant API')

  const partial: EndpointRules = { paths: { 'permissions/audit': 'tls' }, groups: { tls: { type: 'open', secure: 1 } } }
  const partly = await secured(t, { plugin: { rules: partial, acknowledge: ['db-superuser', 'no-https'] } })
  await partly.ready()
  t.ok(ids(await partly.permissions.checkSecurity()).includes('no-https'), 'a rule on one grant route only does not count')

  const terminal: EndpointRules = {
    paths: { 'permissions/': 'tls', 'permissions/audit/verify': 'open' },
    groups: { tls: { type: 'open', secure: 1 }, open: { type: 'open', terminal: true } }
  }
  const skipped = await secured(t, { plugin: { rules: terminal, acknowledge: ['db-superuser', 'no-https'] } })
  await skipped.ready()
  t.ok(ids(await skipped.permissions.checkSecurity()).includes('no-https'), 'a terminal open rule on a grant route skips the folder rule')
})

t.test('outside production, plain HTTP is not a finding', async (t) => {
  const app = await secured(t)
  await app.ready()
  t.same(await serverFindings(app), [])
})

t.test("the logger at 'debug' or 'trace' in production", async (t) => {
  inProduction(t)
  for (const level of ['debug', 'trace']) {
    const logs = logCapture(level)
    const app = await secured(t, { server: { logger: logs.logger }, plugin: { acknowledge: ['db-superuser', 'no-https'] } })
    await app.ready()
    t.same(await serverFindings(app), ['logger-verbose'], level)
  }
  const logs = logCapture('info')
  const app = await secured(t, { server: { logger: logs.logger }, plugin: { acknowledge: ['db-superuser', 'no-https'] } })
  await app.ready()
  t.same(await serverFindings(app), [], 'info')
})

t.test('a custom error handler in production', async (t) => {
  inProduction(t)
  const app = await secured(t, { plugin: { acknowledge: ['db-superuser', 'no-https'] } })
  app.setErrorHandler((err: Error, _request, reply) => { reply.send({ message: err.message, stack: err.stack }) })
  await app.ready()
  t.same(await serverFindings(app), ['custom-error-handler'])
  const findings = await app.permissions.checkSecurity()
  t.match(findings.find((finding) => finding.id === 'custom-error-handler')?.message, /cannot see whether it sends stack traces/)

  const plain = await secured(t, { plugin: { acknowledge: ['db-superuser', 'no-https'] } })
  await plain.ready()
  t.same(await serverFindings(plain), [], "Fastify's own error handler sends no stack")
})
