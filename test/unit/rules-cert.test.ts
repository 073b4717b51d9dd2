// Behaviour 50 (D8): verified client certificates, CN fully matched.
import t from 'tap'
import { single } from '../fixtures/rules/helpers.js'

const cert = (subjectCN: string | null, verified = true) => ({ cert: { verified, subjectCN } })

t.test('without a name, any verified certificate passes', async t => {
  const run = single({ type: 'cert' })
  t.equal(run(cert('anything')).allow, true)
  t.equal(run(cert(null)).allow, true)
  t.equal(run(cert('anything', false)).allow, false, 'unverified')
  t.equal(run({ cert: null }).allow, false, 'no TLS client auth')
  t.match(run({ cert: null }), { reason: 'rule', ruleType: 'cert' })
})

t.test('the name must fully match: com.mycompany.*', async t => {
  const run = single({ type: 'cert', name: 'com.mycompany.*' })
  t.equal(run(cert('com.mycompany.')).allow, true)
  t.equal(run(cert('com.mycompany.service1')).allow, true)
  t.equal(run(cert('evil.com.mycompany.x')).allow, false, 'anchored at the start')
  t.equal(run(cert('xcom.mycompany.x')).allow, false)
  t.equal(run(cert('com.mycompan')).allow, false)
  // It is a regex, not a glob: `.` is any character and `.*` may be empty.
  t.equal(run(cert('com.mycompany')).allow, true)
  t.equal(run(cert('comXmycompany')).allow, true)
  t.equal(run(cert(null)).allow, false, 'a name is required when the rule names one')
  t.equal(run(cert('com.mycompany.x', false)).allow, false, 'verification still required')
})

t.test('anchoring applies at the end too', async t => {
  const run = single({ type: 'cert', name: 'gateway\\.example\\.org' })
  t.equal(run(cert('gateway.example.org')).allow, true)
  t.equal(run(cert('gateway.example.org.evil.net')).allow, false)
  t.equal(run(cert('gatewayXexample.org')).allow, false)
  // An alternation cannot slip out of the anchors.
  const either = single({ type: 'cert', name: 'alpha|beta' })
  t.equal(either(cert('alpha')).allow, true)
  t.equal(either(cert('beta')).allow, true)
  t.equal(either(cert('alphaX')).allow, false)
  t.equal(either(cert('Xbeta')).allow, false)
})

t.test('over-long subject names never match', async t => {
  const run = single({ type: 'cert', name: '.*' })
  t.equal(run(cert('a'.repeat(256))).allow, true)
  t.equal(run(cert('a'.repeat(257))).allow, false)
})

t.test('cert combined with whitelist', async t => {
  const run = single([{ type: 'cert', name: 'com\\.mycompany\\..+' }, { type: 'whitelist', list: ['10.0.0.0/8'] }])
  t.equal(run({ ...cert('com.mycompany.a'), ip: '10.1.1.1' }).allow, true)
  t.match(run({ ...cert('com.mycompany.a'), ip: '11.1.1.1' }), { allow: false, ruleType: 'whitelist' })
  t.match(run({ ...cert('other'), ip: '10.1.1.1' }), { allow: false, ruleType: 'cert' })
})

t.test('the outcome never carries the certificate subject', async t => {
  const run = single({ type: 'cert', name: 'com\\.mycompany\\..+' })
  const outcome = run(cert('cn-that-must-not-leak'))
  t.equal(outcome.allow, false)
  t.notMatch(JSON.stringify(outcome), 'cn-that-must-not-leak')
})
