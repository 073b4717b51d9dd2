// Behaviours 38-40 (D3, D4): evaluation order and terminal rules.
import t from 'tap'
import { compileRules, evaluateRules } from '../../lib/rules/index.js'
import { engine, facts } from '../fixtures/rules/helpers.js'

t.test('longest key first, exact before folder on ties, then lexical (behaviour 38)', async t => {
  const compiled = compileRules({
    paths: { 'a/': 'g', 'a/b/': 'g', 'a/b': 'g', '/a/b/c': 'g', 'a/c': 'g', 'a/b/c/': 'g', '/': 'g', 'b/': 'g', 'a': 'g' },
    groups: { g: { type: 'open' } }
  }, {})
  t.same(compiled.keys.map(k => k.key), ['/a/b/c', 'a/b/c/', 'a/b', 'a/c', 'a/b/', 'a', 'a/', 'b/', '/'])
  t.match(evaluateRules(compiled, facts({ url: '/a/b/c' })), { allow: true, matched: ['/a/b/c', 'a/b/c/', 'a/b/', 'a/', '/'] })
})

t.test('the order does not depend on the order of keys in the file', async t => {
  const entries: Array<[string, string]> = [['x/', 'g'], ['x/y/', 'g'], ['x/y', 'g'], ['x/y/z', 'g'], ['w', 'g']]
  const expected = compileRules({ paths: Object.fromEntries(entries), groups: { g: { type: 'open' } } }, {}).keys.map(k => k.key)
  const reversed = compileRules({ paths: Object.fromEntries(entries.reverse()), groups: { g: { type: 'open' } } }, {}).keys.map(k => k.key)
  t.same(reversed, expected)
})

t.test('evaluation stops at the first failure', async t => {
  const run = engine({
    paths: { 'a/': 'blockA', 'a/b': 'blockB' },
    groups: { blockA: { type: 'block' }, blockB: { type: 'block' } }
  })
  t.match(run({ url: '/a/b' }), { allow: false, pathKey: 'a/b', group: 'blockB' })
})

const securityDetails = {
  paths: { 'admin/': 'admin_only', 'admin/properties/list': 'allow_local_user' },
  groups: {
    admin_only: { type: 'userlevel', level: 'admin' },
    allow_local_user: { type: 'whitelist', list: ['127.0.0.1'], terminal: true }
  }
}

t.test('a passing terminal rule skips less specific paths (behaviour 39)', async t => {
  const run = engine(securityDetails)
  t.same(run({ url: '/admin/properties/list', ip: '127.0.0.1', level: 'reader' }), {
    allow: true, matched: ['admin/properties/list'], elevate: null, demote: null, terminalKey: 'admin/properties/list'
  })
  t.equal(run({ url: '/admin/properties/list', ip: '127.0.0.1', level: null }).allow, true, 'even anonymous')
  t.equal(run({ url: '/admin/properties/other', ip: '127.0.0.1', level: 'reader' }).allow, false, 'only on that path')
})

t.test('a failing terminal rule denies; it does not stop as an allow (behaviour 40)', async t => {
  const run = engine(securityDetails)
  t.match(run({ url: '/admin/properties/list', ip: '10.0.0.1', level: 'superuser' }), {
    allow: false, reason: 'rule', pathKey: 'admin/properties/list', group: 'allow_local_user', ruleType: 'whitelist'
  })
})

t.test('terminal on /api/connect under a blocked /api/', async t => {
  const run = engine({
    paths: { '/api/': 'deny', '/api/connect': 'allow' },
    groups: { allow: { type: 'open', terminal: 1 }, deny: { type: 'block' } }
  })
  t.match(run({ url: '/api/connect' }), { allow: true, terminalKey: '/api/connect', matched: ['/api/connect'] })
  t.match(run({ url: '/api/connect?x=1' }), { allow: true, terminalKey: '/api/connect' })
  t.match(run({ url: '/api/other' }), { allow: false, pathKey: '/api/', ruleType: 'block' })
  t.match(run({ url: '/api' }), { allow: false, pathKey: '/api/' })
  t.match(run({ url: '/api/connect/more' }), { allow: false, pathKey: '/api/' }, 'exact key: children stay blocked')
  t.equal(run({ url: '/api/x/../connect' }).allow, false, 'dot segments are refused, so they cannot reach the terminal key')
  t.equal(run({ url: '/api/x%2F..%2Fconnect' }).allow, false)
  t.equal(run({ url: '/api//connect' }).allow, false)
})

t.test('without terminal the broader block still applies', async t => {
  const run = engine({
    paths: { '/api/': 'deny', '/api/connect': 'allow' },
    groups: { allow: { type: 'open' }, deny: { type: 'block' } }
  })
  t.match(run({ url: '/api/connect' }), { allow: false, pathKey: '/api/' })
})

t.test('terminal takes effect only if its whole alternative passes (D4)', async t => {
  const source = (group: unknown) => ({
    paths: { 'a/': 'deny', 'a/b': 'g' },
    groups: { deny: { type: 'block' }, g: group }
  })
  const and = engine(source([{ type: 'open', terminal: true }, { type: 'whitelist', list: ['127.0.0.1'] }]))
  t.match(and({ url: '/a/b', ip: '127.0.0.1' }), { allow: true, terminalKey: 'a/b' })
  t.match(and({ url: '/a/b', ip: '10.0.0.1' }), { allow: false, pathKey: 'a/b', ruleType: 'whitelist' })

  // In an OR, a terminal in a failing alternative does nothing, even if
  // another alternative passes.
  const or = engine(source([[{ type: 'whitelist', list: ['127.0.0.1'], terminal: true }], [{ type: 'open' }]]))
  t.match(or({ url: '/a/b', ip: '127.0.0.1' }), { allow: true, terminalKey: 'a/b' })
  t.match(or({ url: '/a/b', ip: '10.0.0.1' }), { allow: false, pathKey: 'a/', ruleType: 'block' })

  const off = engine(source({ type: 'open', terminal: 0 }))
  t.match(off({ url: '/a/b' }), { allow: false, pathKey: 'a/' })
})

t.test('a terminal rule cannot rescue a path whose more specific key already failed', async t => {
  const run = engine({
    paths: { 'a/': 'open_terminal', 'a/b': 'deny' },
    groups: { open_terminal: { type: 'open', terminal: true }, deny: { type: 'block' } }
  })
  t.match(run({ url: '/a/b' }), { allow: false, pathKey: 'a/b' })
  t.match(run({ url: '/a/c' }), { allow: true, terminalKey: 'a/' })
})

t.test('the evaluation order is fixed at load', async t => {
  const compiled = compileRules({ paths: { 'a/': 'g' }, groups: { g: { type: 'open' } } }, {})
  t.ok(Object.isFrozen(compiled))
  t.ok(Object.isFrozen(compiled.keys))
  t.throws(() => { (compiled.keys as unknown as unknown[]).push({}) })
})
