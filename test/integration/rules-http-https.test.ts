// Behaviours 49 and 51 over real sockets: `secure: 1` and `token` rules need a
// real HTTPS connection. The server certificate is generated for this run.
import t, { type Test } from 'tap'
import type { FastifyServerOptions } from 'fastify'
import type { EndpointRules } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { listen, makePki, raw, request, type Response } from '../fixtures/tls/helpers.js'

const TOKEN = 'tok-https-0123456789abcdef'
const OTHER = 'tok-https-second-token'

const RULES: EndpointRules = {
  paths: { 'secure/': 'sslonly', 'token/': 'token', 'static/': 'static' },
  groups: {
    sslonly: { type: 'open', secure: 1 },
    token: { type: 'token', header: 'X-Access-Token', list: [TOKEN, OTHER] },
    // A header Node de-duplicates itself (it keeps the first of several).
    static: { type: 'token', header: 'Authorization', value: `Static ${TOKEN}` }
  }
}

async function server (t: Test, https: boolean) {
  const fastifyOptions = https ? { https: makePki(t).server } as unknown as FastifyServerOptions : {}
  const { app } = await build(t, { rules: RULES }, fastifyOptions)
  const ran: string[] = []
  for (const path of ['/secure/x', '/token/x', '/static/x']) {
    app.get(path, { config: { permission: 'public' } }, async (request) => {
      ran.push(path)
      return { protocol: request.protocol }
    })
  }
  const port = await listen(app)
  const get = (path: string, headers: Record<string, string | string[]> = {}) => request({ port, path, headers, https })
  return { port, get, ran }
}

function denied (t: Test, res: Response, what: string): void {
  t.equal(res.status, 403, what)
  t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED', `${what}: code`)
}

t.test('over plain HTTP, secure and token rules fail even with the right token (behaviours 49, 51)', async t => {
  const s = await server(t, false)
  denied(t, await s.get('/secure/x'), 'secure: 1')
  denied(t, await s.get('/token/x', { 'x-access-token': TOKEN }), 'the right token')
  denied(t, await s.get('/token/x', { 'x-access-token': OTHER }), 'the other right token')
  t.same(s.ran, [], 'no handler ran')
})

t.test('over HTTPS they pass', async t => {
  const s = await server(t, true)
  const secure = await s.get('/secure/x')
  t.equal(secure.status, 200, 'secure: 1')
  t.same(secure.json(), { protocol: 'https' })
  t.equal((await s.get('/token/x', { 'x-access-token': TOKEN })).status, 200, 'the right token')
  t.equal((await s.get('/token/x', { 'x-access-token': OTHER })).status, 200, 'either token of the list')
  t.equal((await s.get('/token/x', { 'X-ACCESS-TOKEN': TOKEN })).status, 200, 'the header name in any case')
  t.same(s.ran, ['/secure/x', '/token/x', '/token/x', '/token/x'])
  s.ran.length = 0

  denied(t, await s.get('/token/x'), 'no token')
  denied(t, await s.get('/token/x', { 'x-access-token': 'wrong' }), 'a wrong token')
  denied(t, await s.get('/token/x', { 'x-access-token': TOKEN.slice(0, -1) }), 'a prefix of the token')
  denied(t, await s.get('/token/x', { 'x-access-token': `${TOKEN}x` }), 'the token plus a character')
  denied(t, await s.get('/token/x', { 'x-access-token': TOKEN.toUpperCase() }), 'token values are case-sensitive')
  denied(t, await s.get('/token/x', { authorization: `Bearer ${TOKEN}` }), 'the token in another header')
  t.same(s.ran, [], 'no denied request ran the handler')
})

t.test('a duplicated token header never matches', async t => {
  const s = await server(t, true)
  // Node's client sends an array as repeated header lines.
  denied(t, await s.get('/token/x', { 'x-access-token': [TOKEN, TOKEN] }), 'the right token twice')
  denied(t, await s.get('/token/x', { 'x-access-token': [TOKEN, 'evil'] }), 'right, then wrong')
  denied(t, await s.get('/token/x', { 'x-access-token': ['evil', TOKEN] }), 'wrong, then right')
  denied(t, await s.get('/token/x', { 'x-access-token': [TOKEN, OTHER] }), 'two right tokens')
  // Byte for byte, with names differing in case.
  const head = (lines: string[]) => ['GET /token/x HTTP/1.1', 'Host: localhost', ...lines].join('\r\n')
  denied(t, await raw(s.port, head([`X-Access-Token: ${TOKEN}`, `x-access-token: ${TOKEN}`]), '', { tls: true }), 'raw: same token, two spellings')
  denied(t, await raw(s.port, head([`x-access-token: ${TOKEN}, ${TOKEN}`]), '', { tls: true }), 'raw: a joined list')
  t.equal((await raw(s.port, head([`x-access-token: ${TOKEN}`]), '', { tls: true })).status, 200, 'raw control: one header passes')
  t.same(s.ran, ['/token/x'])
})

t.test('a duplicated header that Node de-duplicates never matches either', async t => {
  const s = await server(t, true)
  const head = (lines: string[]) => ['GET /static/x HTTP/1.1', 'Host: localhost', ...lines].join('\r\n')
  t.equal((await raw(s.port, head([`Authorization: Static ${TOKEN}`]), '', { tls: true })).status, 200, 'sent once')
  // Node keeps only the first Authorization header: the second one must
  // still make the request ambiguous.
  denied(t, await raw(s.port, head([`Authorization: Static ${TOKEN}`, 'Authorization: Static evil']), '', { tls: true }), 'right, then wrong')
  denied(t, await raw(s.port, head([`Authorization: Static ${TOKEN}`, `authorization: Static ${TOKEN}`]), '', { tls: true }), 'twice')
  denied(t, await raw(s.port, head(['Authorization: Static evil', `Authorization: Static ${TOKEN}`]), '', { tls: true }), 'wrong, then right')
  t.same(s.ran, ['/static/x'])
})
