// Behaviour 52 (D10): param_<NAME> filters, anchored, over query and body.
import t from 'tap'
import { compileRules, evaluateRules, requiresBody, normalizeRequestPath } from '../../lib/rules/index.js'
import { engine, facts, single } from '../fixtures/rules/helpers.js'

const q = (query: Record<string, unknown>) => ({ query })

t.test('the documented example: property=28 passes, 128, missing and 28&99 fail', async t => {
  const run = single({ type: 'open', param_property: '28' })
  t.equal(run(q({ property: '28' })).allow, true)
  t.equal(run(q({ property: '128' })).allow, false, 'anchored at the start')
  t.equal(run(q({ property: '280' })).allow, false, 'anchored at the end')
  t.equal(run(q({})).allow, false, 'missing')
  t.equal(run({ query: null }).allow, false, 'no query at all')
  t.equal(run(q({ property: ['28', '99'] })).allow, false, 'every value must match')
  t.equal(run(q({ property: ['28', '28'] })).allow, true)
  t.equal(run(q({ Property: '28' })).allow, false, 'names are case-sensitive')
  t.match(run(q({ property: '128' })), { reason: 'rule', ruleType: 'open' })
})

t.test('the paramfilter example, fixed to valid JSON', async t => {
  const run = engine({
    paths: { 'api/asset/set': 'specialwriter' },
    groups: {
      specialwriter: [
        [{ type: 'open' }],
        [{ type: 'whitelist', list: ['127.0.0.1', 'localhost'], param_property: '(28|35)', param_id: '(115|116)', elevate: 'editor' }]
      ]
    }
  })
  const call = (query: Record<string, unknown>, ip = '127.0.0.1') => run({ url: '/api/asset/set?ignored', ip, query, level: 'reader' })
  t.match(call({ property: '28', id: '115' }), { allow: true, elevate: 'builder' })
  t.match(call({ property: '35', id: '116' }), { allow: true, elevate: 'builder' })
  t.match(call({ property: '128', id: '115' }), { allow: true, elevate: null }, 'no elevation, normal access stays')
  t.match(call({ property: '28' }), { allow: true, elevate: null }, 'missing id')
  t.match(call({ property: ['28', '99'], id: '115' }), { allow: true, elevate: null })
  t.match(call({ property: '28|35', id: '115' }), { allow: true, elevate: null }, 'the pattern is not matched as text')
  t.match(call({ property: '28', id: '115' }, '10.0.0.1'), { allow: true, elevate: null }, 'not local')
})

t.test('query and top-level body are both checked', async t => {
  const run = single({ type: 'open', param_property: '(28|35)' })
  t.equal(run({ body: { property: '28' } }).allow, true, 'body only')
  t.equal(run({ body: { property: 28 } }).allow, true, 'numbers are stringified')
  t.equal(run({ body: { property: 280 } }).allow, false)
  t.equal(run({ query: { property: '28' }, body: { property: '35' } }).allow, true)
  t.equal(run({ query: { property: '28' }, body: { property: '99' } }).allow, false, 'a bad body value fails')
  t.equal(run({ query: { property: '99' }, body: { property: '28' } }).allow, false, 'a bad query value fails')
  t.equal(run({ query: { property: '28' }, body: { other: 1 } }).allow, true)
  t.equal(run({ body: { property: ['28', 35] } }).allow, true, 'arrays: every element')
  t.equal(run({ body: { property: ['28', 99] } }).allow, false)
  t.equal(run({ body: { property: ['28', ['35']] } }).allow, false, 'nested arrays fail')
  t.equal(run({ body: { property: { $gt: 0 } } }).allow, false, 'objects fail')
  t.equal(run({ body: { property: null } }).allow, false, 'null fails')
  t.equal(run({ body: { property: [] } }).allow, false, 'an empty array is no value')
  t.equal(run({ body: { nested: { property: '28' } } }).allow, false, 'only top-level fields count')
  t.equal(run({ body: [{ property: '28' }] }).allow, false, 'array bodies are not parameter sources')
  t.equal(run({ body: 'property=28' }).allow, false, 'unparsed text bodies are not parameter sources')
  t.equal(run({ body: undefined, query: { property: '28' } }).allow, true, 'unparsed body: only the query counts')
})

t.test('booleans are stringified', async t => {
  const run = single({ type: 'open', param_flag: 'true' })
  t.equal(run({ body: { flag: true } }).allow, true)
  t.equal(run({ body: { flag: false } }).allow, false)
})

t.test('inherited properties are not parameters', async t => {
  const run = single({ type: 'open', param_constructor: '.*' })
  t.equal(run({ query: {}, body: {} }).allow, false)
  const proto = single({ type: 'open', param_toString: '.*' })
  t.equal(proto({ body: {} }).allow, false)
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { id: '7' })
  t.equal(single({ type: 'open', param_id: '7' })({ query: nullProto }).allow, true, 'querystring objects have no prototype')
})

t.test('several parameters must all match', async t => {
  const run = single({ type: 'open', param_a: '1', param_b: '2' })
  t.equal(run(q({ a: '1', b: '2' })).allow, true)
  t.equal(run(q({ a: '1' })).allow, false)
  t.equal(run(q({ a: '1', b: '3' })).allow, false)
})

t.test('over-long values never match', async t => {
  const run = single({ type: 'open', param_v: 'a*' })
  t.equal(run(q({ v: 'a'.repeat(256) })).allow, true)
  t.equal(run(q({ v: 'a'.repeat(257) })).allow, false)
})

t.test('patterns are compiled once and stateless across requests', async t => {
  const run = single({ type: 'open', param_id: '\\d+' })
  for (let i = 0; i < 5; i++) t.equal(run(q({ id: '42' })).allow, true, `call ${i}`)
})

t.test('parameter values never appear in the outcome', async t => {
  const run = single({ type: 'open', param_id: '\\d+' })
  const outcome = run(q({ id: 'value-that-must-not-leak' }))
  t.equal(outcome.allow, false)
  t.notMatch(JSON.stringify(outcome), 'value-that-must-not-leak')
})

t.test('requiresBody: only paths whose matching keys filter on parameters', async t => {
  const compiled = compileRules({
    paths: { 'api/': 'plain', 'api/asset/set': 'filtered', 'other/': 'orFiltered' },
    groups: {
      plain: { type: 'open' },
      filtered: { type: 'open', param_id: '1' },
      orFiltered: [[{ type: 'open' }], [{ type: 'open', param_x: 'y' }]]
    }
  }, {})
  const at = (url: string) => requiresBody(compiled, normalizeRequestPath(url, true))
  t.equal(at('/api/asset/set'), true)
  t.equal(at('/api/asset/set?x=1'), true)
  t.equal(at('/api/asset/get'), false)
  t.equal(at('/api'), false)
  t.equal(at('/other/thing'), true)
  t.equal(at('/nowhere'), false)
  t.equal(requiresBody(compiled, null), false, 'invalid paths are denied without waiting for a body')
  t.equal(evaluateRules(compiled, facts({ url: '/api/asset/set', body: { id: '1' } })).allow, true)
})
