// Behaviour 51 (D18): the secure modifier.
import t from 'tap'
import { single } from '../fixtures/rules/helpers.js'

t.test('secure: 1 fails over plain HTTP and passes over HTTPS', async t => {
  const sslOnly = single({ type: 'open', secure: 1 })
  t.equal(sslOnly({ secure: true }).allow, true)
  t.match(sslOnly({ secure: false }), { allow: false, reason: 'rule', ruleType: 'open' })
})

t.test('secure: true on other rule types', async t => {
  const run = single({ type: 'whitelist', list: ['127.0.0.1'], secure: true })
  t.equal(run({ secure: true, ip: '127.0.0.1' }).allow, true)
  t.equal(run({ secure: false, ip: '127.0.0.1' }).allow, false)
  t.equal(run({ secure: true, ip: '10.0.0.1' }).allow, false, 'still needs the rule itself')
})

t.test('secure on a blacklist is not inverted by deny', async t => {
  const run = single({ type: 'isuser', list: ['mallory'], deny: true, secure: 1 })
  t.equal(run({ secure: true, user: 'alice' }).allow, true)
  t.equal(run({ secure: false, user: 'alice' }).allow, false)
})

t.test('secure: 0 or false is off', async t => {
  t.equal(single({ type: 'open', secure: 0 })({ secure: false }).allow, true)
  t.equal(single({ type: 'open', secure: false })({ secure: false }).allow, true)
})

t.test('only a literal true counts as secure', async t => {
  const run = single({ type: 'open', secure: 1 })
  t.equal(run({ secure: 'true' as unknown as boolean }).allow, false)
  t.equal(run({ secure: 1 as unknown as boolean }).allow, false)
})
