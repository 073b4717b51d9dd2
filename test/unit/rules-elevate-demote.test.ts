// Behaviours 53-55 (D11): elevate, demote and the effective level.
import t from 'tap'
import { compileRules, effectiveLevel } from '../../lib/rules/index.js'
import { engine, single } from '../fixtures/rules/helpers.js'

const compiled = compileRules({ paths: {}, groups: {} }, {})

t.test('a passing elevate rule raises the level for that request (behaviour 53)', async t => {
  const run = single({ type: 'whitelist', list: ['127.0.0.1'], elevate: 'builder' })
  const outcome = run({ ip: '127.0.0.1', level: 'reader' })
  t.match(outcome, { allow: true, elevate: 'builder', demote: null })
  t.equal(effectiveLevel(compiled, 'reader', 'builder', null), 'builder')
  t.equal(effectiveLevel(compiled, null, 'builder', null), 'builder', 'anonymous web-hook callers get the level')
  t.equal(effectiveLevel(compiled, 'admin', 'builder', null), 'admin', 'elevate never lowers')
  t.match(run({ ip: '10.0.0.1' }), { allow: false })
})

t.test('elevate to editor reports the canonical level', async t => {
  t.match(single({ type: 'open', elevate: 'editor' })(), { allow: true, elevate: 'builder' })
})

t.test('a failing rule or alternative elevates nothing', async t => {
  const run = single([[{ type: 'open' }], [{ type: 'whitelist', list: ['127.0.0.1'], elevate: 'creator' }]])
  t.match(run({ ip: '10.0.0.1' }), { allow: true, elevate: null })
  t.match(run({ ip: '127.0.0.1' }), { allow: true, elevate: 'creator' })
  const and = single([{ type: 'open', elevate: 'creator' }, { type: 'whitelist', list: ['127.0.0.1'] }])
  t.match(and({ ip: '10.0.0.1' }), { allow: false })
})

t.test('a passing demote rule caps the level (behaviour 54)', async t => {
  const run = single({ type: 'open', demote: 'reader' })
  t.match(run({ level: 'superuser' }), { allow: true, demote: 'reader', elevate: null })
  t.equal(effectiveLevel(compiled, 'superuser', null, 'reader'), 'reader')
  t.equal(effectiveLevel(compiled, 'admin', null, 'reader'), 'reader')
  t.equal(effectiveLevel(compiled, 'reader', null, 'creator'), 'reader', 'demote never raises')
  t.equal(effectiveLevel(compiled, null, null, 'reader'), 'reader', 'a demote caps a principal without a level too')
})

t.test('demote wins over elevate (behaviour 55)', async t => {
  t.equal(effectiveLevel(compiled, 'reader', 'creator', 'reader'), 'reader')
  t.equal(effectiveLevel(compiled, 'admin', 'creator', 'builder'), 'builder')
  t.equal(effectiveLevel(compiled, 'reader', 'creator', 'builder'), 'builder')
  const run = single([{ type: 'open', elevate: 'creator' }, { type: 'open', demote: 'reader' }])
  const outcome = run({ level: 'builder' })
  t.match(outcome, { allow: true, elevate: 'creator', demote: 'reader' })
  if (outcome.allow) t.equal(effectiveLevel(compiled, 'builder', outcome.elevate, outcome.demote), 'reader')
})

t.test('across several matched keys: highest elevate, lowest demote', async t => {
  const run = engine({
    paths: { 'a/': 'g1', 'a/b/': 'g2', 'a/b/c': 'g3' },
    groups: {
      g1: { type: 'open', elevate: 'builder', demote: 'creator' },
      g2: { type: 'open', elevate: 'creator' },
      g3: { type: 'open', demote: 'builder' }
    }
  })
  t.match(run({ url: '/a/b/c' }), { allow: true, elevate: 'creator', demote: 'builder' })
  t.match(run({ url: '/a/x' }), { allow: true, elevate: 'builder', demote: 'creator' })
  t.match(run({ url: '/z' }), { allow: true, elevate: null, demote: null })
})

t.test('keys skipped by a terminal rule contribute nothing', async t => {
  const run = engine({
    paths: { 'a/': 'down', 'a/b': 'stop' },
    groups: { down: { type: 'open', demote: 'reader' }, stop: { type: 'open', terminal: true, elevate: 'builder' } }
  })
  t.match(run({ url: '/a/b' }), { allow: true, elevate: 'builder', demote: null, terminalKey: 'a/b' })
})

t.test('effectiveLevel with aliases, unknown names and custom orders', async t => {
  t.equal(effectiveLevel(compiled, 'editor', null, null), 'builder')
  t.equal(effectiveLevel(compiled, 'wizard', null, null), null, 'unknown base level is no level')
  t.equal(effectiveLevel(compiled, 'admin', 'wizard', null), 'admin', 'unknown elevate is ignored')
  t.equal(effectiveLevel(compiled, 'admin', null, 'wizard'), 'reader', 'unknown demote caps at the lowest level')
  t.equal(effectiveLevel(compiled, null, null, null), null)
  const custom = compileRules({ paths: {}, groups: {} }, { levels: ['guest', 'member', 'admin'], maxElevate: 'member' })
  t.equal(effectiveLevel(custom, 'guest', 'member', null), 'member')
  t.equal(effectiveLevel(custom, 'admin', null, 'guest'), 'guest')
})

t.test('the secure example with demote: plain-HTTP callers are demoted to reader', async t => {
  const run = engine({
    paths: { '/api/': 'sslrequired' },
    groups: { sslrequired: [[{ type: 'open', secure: 1 }], [{ type: 'open', demote: 'reader' }]] }
  })
  const plain = run({ url: '/api/asset/set', secure: false, level: 'admin' })
  t.match(plain, { allow: true, demote: 'reader' })
  if (plain.allow) t.equal(effectiveLevel(compiled, 'admin', plain.elevate, plain.demote), 'reader')
  // HTTPS callers pass the undemoted alternative, which wins: they keep
  // their level, as the source intends (see evaluate.ts).
  t.match(run({ url: '/api/asset/set', secure: true, level: 'admin' }), { allow: true, demote: null })
  t.match(run({ url: '/api/asset/set', secure: true, level: null }), { allow: true, demote: null }, 'anonymous HTTPS callers too')
  t.match(run({ url: '/api/asset/set', secure: false, level: null }), { allow: true, demote: 'reader' }, 'anonymous plain-HTTP callers are capped')
  const reversed = engine({
    paths: { '/api/': 'sslrequired' },
    groups: { sslrequired: [[{ type: 'open', demote: 'reader' }], [{ type: 'open', secure: 1 }]] }
  })
  t.match(reversed({ url: '/api/x', secure: true, level: null }), { allow: true, demote: null }, 'whatever the order of the alternatives')
  const strict = engine({ paths: { '/api/': 'sslrequired' }, groups: { sslrequired: { type: 'open', secure: 1 } } })
  t.match(strict({ url: '/api/x', secure: false }), { allow: false, reason: 'rule', pathKey: '/api/', ruleType: 'open' })
  t.match(strict({ url: '/api/x', secure: true }), { allow: true, demote: null })
})
