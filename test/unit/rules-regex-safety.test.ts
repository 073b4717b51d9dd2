// Regex pitfalls (stack-pitfalls.md): unsafe patterns fail at load; compiled
// patterns are anchored, flag-free and bounded.
import t, { type Test } from 'tap'
import { compileRules, RulesConfigError } from '../../lib/rules/index.js'
import { single } from '../fixtures/rules/helpers.js'

const withParam = (pattern: unknown) => ({ paths: { 'x/': 'g' }, groups: { g: { type: 'open', param_id: pattern } } })
const withCert = (pattern: unknown) => ({ paths: { 'x/': 'g' }, groups: { g: { type: 'cert', name: pattern } } })

function refused (t: Test, source: unknown, pointer: string, label: string): void {
  t.throws(() => compileRules(source, {}), { name: 'RulesConfigError', pointer }, label)
}

t.test('catastrophic-backtracking patterns are refused at load', async t => {
  const unsafe = [
    '^(a+)+$', '(a+)+', '(a*)*b', '(.*a){12}', '(\\d+)+x', // nested quantifiers (safe-regex2)
    '(a|a)*', '(a|aa)+', '(\\w|\\d)+x', '(?:x|y){2,}', '((a|b)c)+', '(a|b){30}', // repeated alternation
    'a*a*a*b', '.*a.*b.*c', '\\d+\\d+\\d+', 'a{1,100}b{1,100}c{1,100}', // three unbounded quantifiers
    'a?a?a?a?a?a?a?a?a?a?a?aaaaaaaaaaa' // too many quantifiers
  ]
  for (const pattern of unsafe) {
    refused(t, withParam(pattern), 'groups.g.param_id', `param ${pattern}`)
    refused(t, withCert(pattern), 'groups.g.name', `cert ${pattern}`)
  }
})

t.test('ordinary patterns are accepted', async t => {
  for (const pattern of ['28', '(28|35)', '(115|116)', '\\d+', '[a-z]+@[a-z]+\\.com', 'com.mycompany.*', 'com\\.mycompany\\..+',
    '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '(?:ab)+', 'a{3}', '(x|y)?', '', '[(|)]+', '\\(a|b\\)*']) {
    t.doesNotThrow(() => compileRules(withParam(pattern), {}), pattern)
  }
})

t.test('invalid or non-string patterns are refused', async t => {
  for (const pattern of ['(', 'a)|(b', '[', 'a{2,1}', '\\', '*']) refused(t, withParam(pattern), 'groups.g.param_id', pattern)
  for (const pattern of [5, null, ['a'], { source: 'a' }, true]) refused(t, withParam(pattern), 'groups.g.param_id', String(pattern))
  refused(t, withCert(42), 'groups.g.name', 'cert name 42')
  refused(t, withParam('a'.repeat(513)), 'groups.g.param_id', 'very long pattern')
})

t.test('regex literals with flags are refused; patterns are plain strings', async t => {
  for (const pattern of ['/28/g', '/abc/i', '/a/gy', '/x/s']) {
    refused(t, withParam(pattern), 'groups.g.param_id', pattern)
  }
  // Without flags the slashes are just characters to match.
  const run = single({ type: 'open', param_p: '/28/' })
  t.equal(run({ query: { p: '/28/' } }).allow, true)
  t.equal(run({ query: { p: '28' } }).allow, false)
})

t.test('the error names the pattern location', async t => {
  try {
    compileRules(withParam('^(a+)+$'), {})
    t.fail('should throw')
  } catch (error) {
    t.ok(error instanceof RulesConfigError)
    t.match((error as Error).message, /^rules: groups\.g\.param_id: unsafe/)
  }
})

t.test('accepted patterns cannot be made to backtrack for long', async t => {
  const run = single({ type: 'open', param_v: '[a-z]*[a-z]*x' })
  const started = process.hrtime.bigint()
  for (let i = 0; i < 50; i++) run({ query: { v: 'a'.repeat(256) } })
  run({ query: { v: 'a'.repeat(100_000) } })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  t.ok(ms < 1000, `51 adversarial matches took ${ms.toFixed(1)} ms`)
})

t.test('compiled patterns are anchored and carry no flags', async t => {
  const compiled = compileRules({
    paths: { 'x/': 'g' },
    groups: { g: [{ type: 'open', param_a: '(28|35)' }, { type: 'cert', name: 'a|b' }] }
  }, {})
  const rules = compiled.keys[0]?.group.alternatives[0] ?? []
  const param = rules[0]?.params[0]?.pattern
  t.equal(param?.source, '^(?:(28|35))$')
  t.equal(param?.flags, '')
  const cert = rules[1]
  t.equal(cert?.type === 'cert' ? cert.name?.source : undefined, '^(?:a|b)$')
})
