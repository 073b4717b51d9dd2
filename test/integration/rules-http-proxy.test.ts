// Behaviours 45, 46 and D14/D18 over HTTP: X-Forwarded-* headers count only
// when trustProxy names the proxy that sent them. A "remote" client is a
// socket bound to 127.0.0.2; the server listens on 127.0.0.1.
import t, { type Test } from 'tap'
import type { FastifyServerOptions } from 'fastify'
import type { EndpointRules } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { captureLogs, listen, request, type Response } from '../fixtures/tls/helpers.js'

const REMOTE = '127.0.0.2'
const TOKEN = 'tok-proxy-0123456789'

const RULES: EndpointRules = {
  paths: { 'local/': 'local', 'secure/': 'sslonly', 'token/': 'token' },
  groups: {
    local: { type: 'whitelist', list: ['127.0.0.1'] },
    sslonly: { type: 'open', secure: 1 },
    token: { type: 'token', header: 'X-Access-Token', value: TOKEN }
  }
}

async function server (t: Test, fastifyOptions: FastifyServerOptions = {}) {
  const { app } = await build(t, { rules: RULES }, fastifyOptions)
  const ran: string[] = []
  for (const path of ['/local/x', '/secure/x', '/token/x']) {
    app.get(path, { config: { permission: 'public' } }, async (request) => {
      ran.push(path)
      return { ip: request.ip, protocol: request.protocol }
    })
  }
  const port = await listen(app)
  const get = (path: string, headers: Record<string, string> = {}, localAddress?: string) =>
    request({ port, path, headers, localAddress })
  return { get, ran }
}

function denied (t: Test, res: Response, what: string): void {
  t.equal(res.status, 403, what)
  t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED', `${what}: code`)
}

t.test('trustProxy off: a spoofed X-Forwarded-For does not satisfy a whitelist (behaviour 46)', async t => {
  const s = await server(t)
  const control = await s.get('/local/x')
  t.equal(control.status, 200, 'a real local client passes')
  t.same(control.json(), { ip: '127.0.0.1', protocol: 'http' })
  s.ran.length = 0
  for (const xff of ['127.0.0.1', 'localhost', '::1', '::ffff:127.0.0.1', '127.0.0.1, 127.0.0.1', '198.51.100.1, 127.0.0.1']) {
    denied(t, await s.get('/local/x', { 'x-forwarded-for': xff }, REMOTE), `X-Forwarded-For: ${xff}`)
  }
  denied(t, await s.get('/local/x', { 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1' }, REMOTE), 'X-Real-IP / Forwarded')
  t.same(s.ran, [], 'the handler never ran')
})

t.test('trustProxy: [127.0.0.1]: the trusted proxy\'s X-Forwarded-For is the client address', async t => {
  const s = await server(t, { trustProxy: ['127.0.0.1'] })
  const res = await s.get('/local/x', { 'x-forwarded-for': '127.0.0.1' })
  t.equal(res.status, 200, 'forwarded for a local client by the trusted proxy')
  t.equal(res.json().ip, '127.0.0.1')
  t.same(s.ran, ['/local/x'])
  s.ran.length = 0
  denied(t, await s.get('/local/x', { 'x-forwarded-for': '198.51.100.7' }), 'forwarded for a remote client')
  denied(t, await s.get('/local/x', { 'x-forwarded-for': '127.0.0.1, 198.51.100.7' }), 'the nearest untrusted hop counts')
  denied(t, await s.get('/local/x', { 'x-forwarded-for': 'not-an-ip' }), 'junk is no address')
  denied(t, await s.get('/local/x', { 'x-forwarded-for': '127.1' }), 'non-canonical IPv4 is no address')
  denied(t, await s.get('/local/x', { 'x-forwarded-for': '127.0.0.1' }, REMOTE), 'sent by an untrusted peer')
  t.same(s.ran, [])
})

t.test('X-Forwarded-Proto: https does not make secure or token rules pass without trust (D18)', async t => {
  const s = await server(t)
  const spoofs: Array<Record<string, string>> = [
    { 'x-forwarded-proto': 'https' },
    { 'x-forwarded-proto': 'https', 'x-forwarded-ssl': 'on', forwarded: 'proto=https' }
  ]
  for (const headers of spoofs) {
    denied(t, await s.get('/secure/x', headers), 'secure: 1')
    denied(t, await s.get('/token/x', { ...headers, 'x-access-token': TOKEN }), 'token')
  }
  t.same(s.ran, [])

  // A trusted TLS-terminating proxy is believed; an untrusted peer is not.
  const proxied = await server(t, { trustProxy: ['127.0.0.1'] })
  const secure = await proxied.get('/secure/x', { 'x-forwarded-proto': 'https' })
  t.equal(secure.status, 200, 'secure: 1 behind the trusted proxy')
  t.equal(secure.json().protocol, 'https')
  t.equal((await proxied.get('/token/x', { 'x-forwarded-proto': 'https', 'x-access-token': TOKEN })).status, 200, 'token behind the trusted proxy')
  denied(t, await proxied.get('/token/x', { 'x-forwarded-proto': 'https', 'x-access-token': 'wrong' }), 'wrong token behind the proxy')
  denied(t, await proxied.get('/secure/x', { 'x-forwarded-proto': 'https' }, REMOTE), 'secure from an untrusted peer')
  denied(t, await proxied.get('/token/x', { 'x-forwarded-proto': 'https', 'x-access-token': TOKEN }, REMOTE), 'token from an untrusted peer')
  t.same(proxied.ran, ['/secure/x', '/token/x'])
})

t.test('trustProxy: true logs a warning at startup', async t => {
  const warnings = (logs: ReturnType<typeof captureLogs>) =>
    logs.records.filter(record => record.level === 40 && /trustProxy/.test(String(record.msg)))

  const trusting = captureLogs()
  const s = await server(t, { trustProxy: true, logger: { level: 'warn', stream: trusting.stream } })
  // Fastify 5 does not expose trustProxy in initialConfig: the plugin must
  // find it elsewhere for this warning to fire at all.
  t.equal(warnings(trusting).length, 1, 'one warning')
  t.match(warnings(trusting)[0]?.msg, /X-Forwarded/, 'it names the headers')
  // Which is right: with it, any client is "local".
  const spoofed = await s.get('/local/x', { 'x-forwarded-for': '127.0.0.1' }, REMOTE)
  t.equal(spoofed.status, 200, 'trustProxy: true lets a remote client claim 127.0.0.1')

  for (const trustProxy of [false, ['127.0.0.1'], '127.0.0.1']) {
    const logs = captureLogs()
    await server(t, { trustProxy, logger: { level: 'warn', stream: logs.stream } } as FastifyServerOptions)
    t.equal(warnings(logs).length, 0, `no warning with trustProxy: ${JSON.stringify(trustProxy)}`)
  }
})

t.test('a hop-count trustProxy does not let a direct client spoof its address', async t => {
  // Fastify 5.12 fails closed on a hop count: the immediate peer cannot be validated.
  const s = await server(t, { trustProxy: 1 } as unknown as FastifyServerOptions)
  denied(t, await s.get('/local/x', { 'x-forwarded-for': '127.0.0.1' }, REMOTE), 'X-Forwarded-For from a direct remote client')
  denied(t, await s.get('/secure/x', { 'x-forwarded-proto': 'https' }, REMOTE), 'X-Forwarded-Proto from a direct remote client')
  t.same(s.ran, [])
})
