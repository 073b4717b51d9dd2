// Behaviour 52 (D10) over HTTP: param_<NAME> patterns are anchored and apply
// to every value in the query string and the top-level body. Rules without
// parameter filters refuse before the body is parsed; rules with them are
// evaluated after parsing.
import t, { type Test } from 'tap'
import type { EndpointRules } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { listen, request, type Response } from '../fixtures/tls/helpers.js'

const REMOTE = '127.0.0.2'

// The ARDI parameter-filter example, with its JSON fixed (seeds spec §1.6).
const RULES: EndpointRules = {
  paths: {
    'api/asset/set': 'specialwriter',
    'api/asset/strict': 'strictwriter',
    'api/blocked/': 'blocked'
  },
  groups: {
    specialwriter: [
      [{ type: 'open' }],
      [{ type: 'whitelist', list: ['127.0.0.1', 'localhost'], param_property: '(28|35)', param_id: '(115|116)', elevate: 'editor' }]
    ],
    strictwriter: { type: 'whitelist', list: ['127.0.0.1'], param_property: '(28|35)', param_id: '(115|116)' },
    blocked: { type: 'block' }
  },
  settings: { diagnostics: true }
}

async function server (t: Test) {
  const { app, as } = await build(t, { rules: RULES })
  const ran: string[] = []
  let parsed = 0
  // A parser that counts its calls: it must not run for a refused request.
  app.addContentTypeParser('application/x-probe', { parseAs: 'string' }, (_request, body, done) => {
    parsed++
    try {
      done(null, JSON.parse(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  const edit = { config: { permission: { resource: 'asset', privilege: 'edit' as const, id: false as const } } }
  const open = { config: { permission: 'public' as const } }
  for (const method of ['GET', 'POST'] as const) {
    app.route({ method, url: '/api/asset/set', ...edit, handler: async (request) => { ran.push('set'); return { accessLevel: request.accessLevel } } })
    app.route({ method, url: '/api/asset/strict', ...open, handler: async (request) => { ran.push('strict'); return { body: request.body ?? null } } })
    app.route({ method, url: '/api/blocked/x', ...open, handler: async () => { ran.push('blocked'); return 'x' } })
  }
  // The web hook's user holds edit on every asset but acts at reader level,
  // which may only read: only the elevating alternative lets it edit.
  await app.permissions.grant({ grantee: { kind: 'user', id: 'hook' }, resource: 'asset', id: null, privilege: 'edit' })
  const port = await listen(app)
  const send = (path: string, options: { body?: unknown, type?: string, headers?: Record<string, string>, localAddress?: string } = {}) => {
    const headers: Record<string, string> = { ...options.headers }
    let body: string | undefined
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
      headers['content-type'] = options.type ?? 'application/json'
    }
    return request({ port, path, method: body === undefined ? 'GET' : 'POST', headers, body, localAddress: options.localAddress })
  }
  return { send, ran, as, parsedCount: () => parsed }
}

function ruleDenied (t: Test, res: Response, what: string): void {
  t.equal(res.status, 403, what)
  t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED', `${what}: code`)
  t.match(res.json()?.message, /path 'api\/asset\/strict', group 'strictwriter', rule 'whitelist'/, `${what}: the filtered rule`)
}

t.test('the fixed example, query string: matching parameters elevate the local caller', async t => {
  const s = await server(t)
  const hook = s.as('hook', { level: 'reader' })
  const ok = await s.send('/api/asset/set?property=28&id=115', { headers: hook })
  t.equal(ok.status, 200, 'property=28&id=115')
  t.same(ok.json(), { accessLevel: 'builder' }, 'elevated to editor (builder)')
  t.equal((await s.send('/api/asset/set?property=35&id=116', { headers: hook })).status, 200, 'property=35&id=116')
  t.same(s.ran, ['set', 'set'])
  s.ran.length = 0

  for (const query of ['property=128&id=115', 'property=28&id=1150', 'property=2&id=115', 'id=115', 'property=28', '',
    'property=28&property=99&id=115', 'property=99&property=28&id=115', 'property=28&id=115&id=999', 'property=28,35&id=115',
    'property=028&id=115', 'property=28%0A&id=115', 'property[]=28&id=115']) {
    const res = await s.send(`/api/asset/set?${query}`, { headers: hook })
    // The open alternative still lets the caller in, unelevated: a reader
    // may not edit, so the grants layer refuses.
    t.equal(res.status, 403, query)
    t.equal(res.json()?.code, 'FST_DEFAULT_DENY_FORBIDDEN', `${query}: not elevated, so the reader may not edit`)
  }
  const remote = await s.send('/api/asset/set?property=28&id=115', { headers: hook, localAddress: REMOTE })
  t.equal(remote.status, 403, 'a remote caller is not elevated')
  t.same(s.ran, [], 'the handler did not run')

  // "Anyone who could normally use the endpoint still can": a builder gets
  // in through the open alternative, whatever the parameters.
  const builder = await s.send('/api/asset/set?property=128', { headers: s.as('hook', { level: 'builder' }) })
  t.equal(builder.status, 200)
  t.same(builder.json(), { accessLevel: 'builder' })
})

t.test('the fixed example, JSON body', async t => {
  const s = await server(t)
  const hook = s.as('hook', { level: 'reader' })
  for (const body of [{ property: '28', id: '115' }, { property: 28, id: 116 }, { property: ['35'], id: '115' }]) {
    const res = await s.send('/api/asset/set', { body, headers: hook })
    t.equal(res.status, 200, JSON.stringify(body))
    t.same(res.json(), { accessLevel: 'builder' })
  }
  const mixed = await s.send('/api/asset/set?id=115', { body: { property: '28' }, headers: hook })
  t.equal(mixed.status, 200, 'property in the body, id in the query')
  t.same(s.ran, ['set', 'set', 'set', 'set'])
  s.ran.length = 0
  for (const body of [{ property: '128', id: '115' }, { id: '115' }, { property: ['28', '99'], id: '115' },
    { property: { value: '28' }, id: '115' }, { property: null, id: '115' }, [{ property: '28', id: '115' }]]) {
    const res = await s.send('/api/asset/set', { body, headers: hook })
    t.equal(res.status, 403, JSON.stringify(body))
    t.equal(res.json()?.code, 'FST_DEFAULT_DENY_FORBIDDEN')
  }
  t.same(s.ran, [])
})

t.test('a strict param-filter rule: every failure is a rule denial (behaviour 52)', async t => {
  const s = await server(t)
  t.equal((await s.send('/api/asset/strict?property=28&id=115')).status, 200, 'query')
  t.equal((await s.send('/api/asset/strict', { body: { property: '35', id: '116' } })).status, 200, 'body')
  t.equal((await s.send('/api/asset/strict?property=28&property=28&id=115')).status, 200, 'a repeated value that matches every time')
  t.same(s.ran, ['strict', 'strict', 'strict'])
  s.ran.length = 0

  for (const query of ['property=128&id=115', 'id=115', 'property=28', 'property=28&property=99&id=115', 'property=28&id=115&id=116&id=7',
    'property=&id=115', 'property=28%20&id=115', 'Property=28&id=115']) {
    ruleDenied(t, await s.send(`/api/asset/strict?${query}`), `query ${query}`)
  }
  for (const body of [{ property: '128', id: '115' }, {}, { property: ['28', '99'], id: '115' }, { property: { $eq: '28' }, id: '115' },
    { property: [['28']], id: '115' }, { property: true, id: '115' }, { property: '2'.repeat(300), id: '115' }]) {
    ruleDenied(t, await s.send('/api/asset/strict', { body }), `body ${JSON.stringify(body).slice(0, 60)}`)
  }
  ruleDenied(t, await s.send('/api/asset/strict?property=28&id=115', { body: { property: '99' } }), 'query passes, body does not')
  ruleDenied(t, await s.send('/api/asset/strict?property=28&id=115', { localAddress: REMOTE }), 'the rule itself fails')
  t.same(s.ran, [], 'the handler did not run')
  const poisoned = await s.send('/api/asset/strict', { body: '{"__proto__":{"property":"28","id":"115"}}' })
  t.equal(poisoned.status, 400, 'a __proto__ body is refused by the parser')
  t.same(s.ran, [])
})

t.test('a rule without parameter filters refuses before the body is parsed', async t => {
  const s = await server(t)
  const blocked = await s.send('/api/blocked/x', { body: { property: '28' }, type: 'application/x-probe' })
  t.equal(blocked.status, 403)
  t.equal(blocked.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED')
  t.equal(s.parsedCount(), 0, 'the content-type parser was never called')
  const malformed = await s.send('/api/blocked/x', { body: '{not json', type: 'application/x-probe' })
  t.equal(malformed.status, 403, 'a malformed body is refused by the rule, not by the parser')
  t.equal(s.parsedCount(), 0)
  t.same(s.ran, [])
})

t.test('a param-filter rule is evaluated after the body is parsed', async t => {
  const s = await server(t)
  const ok = await s.send('/api/asset/strict', { body: { property: '28', id: '115' }, type: 'application/x-probe' })
  t.equal(ok.status, 200, 'the filter saw the parsed body')
  t.same(ok.json(), { body: { property: '28', id: '115' } })
  t.equal(s.parsedCount(), 1)
  ruleDenied(t, await s.send('/api/asset/strict', { body: { property: '128', id: '115' }, type: 'application/x-probe' }), 'parsed, then refused')
  t.equal(s.parsedCount(), 2, 'the parser ran before the refusal')
  t.same(s.ran, ['strict'], 'the handler ran only for the passing request')
})
