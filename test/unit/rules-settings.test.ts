// Behaviours 57 and 58 at the engine level; D12, D13, D15 defaults.
import t from 'tap'
import { compileRules, evaluateRules } from '../../lib/rules/index.js'
import { defaultRulesSource, facts } from '../fixtures/rules/helpers.js'

t.test('missing settings get safe defaults (D15)', async t => {
  t.same(compileRules({ paths: {}, groups: {} }, {}).settings, { diagnostics: false, lockout: false })
  t.same(compileRules({ paths: {}, groups: {}, settings: {} }, {}).settings, { diagnostics: false, lockout: false })
  t.same(compileRules({ paths: {}, groups: {}, settings: { lockout: true } }, {}).settings, { diagnostics: false, lockout: true })
  t.same(compileRules(defaultRulesSource(), {}).settings, { diagnostics: true, lockout: false })
})

t.test('settings are read-only once compiled', async t => {
  const compiled = compileRules({ paths: {}, groups: {} }, {})
  t.ok(Object.isFrozen(compiled.settings))
  const again = compileRules({ paths: {}, groups: {}, settings: { diagnostics: true } }, {})
  t.equal(compiled.settings.diagnostics, false, 'one file does not change another')
  t.equal(again.settings.diagnostics, true)
})

t.test('lockout denies everything, first (behaviour 57)', async t => {
  const locked = compileRules({
    paths: { 'open/': 'open', 'x/': 'terminal' },
    groups: { open: { type: 'open' }, terminal: { type: 'open', terminal: true } },
    settings: { lockout: true }
  }, {})
  for (const f of [
    facts({ url: '/open/x' }),
    facts({ url: '/x/y' }),
    facts({ url: '/unmatched' }),
    facts({ url: '/', user: 'admin', level: 'superuser', ip: '127.0.0.1', secure: true }),
    { ...facts(), path: null }
  ]) {
    t.same(evaluateRules(locked, f), { allow: false, reason: 'lockout' })
  }
  const unlocked = compileRules({ paths: {}, groups: {}, settings: { lockout: false } }, {})
  t.equal(evaluateRules(unlocked, facts({ url: '/unmatched' })).allow, true)
})

t.test('an invalid path is denied', async t => {
  const compiled = compileRules({ paths: {}, groups: {} }, {})
  t.same(evaluateRules(compiled, { ...facts(), path: null }), { allow: false, reason: 'invalid-path' })
})

t.test('denials name only the path key, group and rule type (behaviour 58)', async t => {
  const secrets = ['tok-secret-123', 'cn-secret-456', '198.51.100.77', 'param-secret-789', 'user-secret']
  const compiled = compileRules({
    paths: { 'a/': 'g' },
    groups: {
      g: [
        [{ type: 'token', header: 'X-Token', value: secrets[0] }],
        [{ type: 'cert', name: 'ok' }],
        [{ type: 'whitelist', list: ['10.0.0.1'] }],
        [{ type: 'isuser', list: ['someone'] }],
        [{ type: 'open', param_p: '\\d+' }]
      ]
    },
    settings: { diagnostics: true }
  }, {})
  const outcome = evaluateRules(compiled, facts({
    url: '/a/b',
    secure: true,
    headers: { 'x-token': secrets[0] + 'x' },
    cert: { verified: true, subjectCN: secrets[1] ?? '' },
    ip: secrets[2],
    query: { p: secrets[3] },
    user: secrets[4] ?? null
  }))
  t.same(outcome, { allow: false, reason: 'rule', pathKey: 'a/', group: 'g', ruleType: 'open' })
  const text = JSON.stringify(outcome)
  for (const secret of secrets) t.notMatch(text, secret)
})
