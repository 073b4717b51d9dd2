// Behaviour 49 (D7): header tokens, constant-time, HTTPS only.
import t from 'tap'
import { compileRules, evaluateRules } from '../../lib/rules/index.js'
import { facts, single } from '../fixtures/rules/helpers.js'

const TOKEN = 'Zt4-k9Q_token'
const rule = { type: 'token', header: 'X-Access-Token', value: TOKEN }

t.test('the right token over HTTPS passes; over plain HTTP it fails', async t => {
  const run = single(rule)
  t.equal(run({ secure: true, headers: { 'x-access-token': TOKEN } }).allow, true)
  t.equal(run({ secure: false, headers: { 'x-access-token': TOKEN } }).allow, false)
  t.match(run({ secure: false, headers: { 'x-access-token': TOKEN } }), { reason: 'rule', ruleType: 'token' })
})

t.test('wrong, missing, empty or near-miss tokens fail', async t => {
  const run = single(rule)
  for (const value of ['', 'wrong', TOKEN.slice(0, -1), TOKEN + 'x', TOKEN.toUpperCase(), ` ${TOKEN}`, `${TOKEN}\u0000`]) {
    t.equal(run({ secure: true, headers: { 'x-access-token': value } }).allow, false, JSON.stringify(value))
  }
  t.equal(run({ secure: true, headers: {} }).allow, false, 'missing header')
  t.equal(run({ secure: true, headers: { 'x-access-token': undefined } }).allow, false)
  t.equal(run({ secure: true, headers: { 'x-other': TOKEN } }).allow, false, 'other header')
})

t.test('the header name is matched case-insensitively', async t => {
  const run = single({ type: 'token', header: 'x-ACCESS-token', value: TOKEN })
  t.equal(run({ secure: true, headers: { 'x-access-token': TOKEN } }).allow, true)
  t.equal(run({ secure: true, headers: { 'X-Access-Token': TOKEN } }).allow, true)
})

t.test('duplicated headers never match', async t => {
  const run = single(rule)
  t.equal(run({ secure: true, headers: { 'x-access-token': [TOKEN, TOKEN] } }).allow, false, 'array value')
  t.equal(run({ secure: true, headers: { 'x-access-token': [TOKEN] } }).allow, false, 'single-element array')
  t.equal(run({ secure: true, headers: { 'x-access-token': `${TOKEN}, evil` } }).allow, false, 'joined by Node')
  t.equal(run({ secure: true, headers: { 'x-access-token': `evil, ${TOKEN}` } }).allow, false)
  t.equal(run({ secure: true, headers: { 'x-access-token': TOKEN, 'X-Access-Token': TOKEN } }).allow, false, 'two spellings')
  // A configured token that itself contains a comma still matches exactly.
  const comma = single({ type: 'token', header: 'X-Access-Token', value: 'a, b' })
  t.equal(comma({ secure: true, headers: { 'x-access-token': 'a, b' } }).allow, true)
  t.equal(comma({ secure: true, headers: { 'x-access-token': 'a' } }).allow, false)
})

t.test('value and list are synonyms; every configured token is accepted', async t => {
  for (const group of [
    { type: 'token', header: 'X-Access-Token', value: ['token1', 'token2'] },
    { type: 'token', header: 'X-Access-Token', list: ['token1', 'token2'] },
    { type: 'token', header: 'X-Access-Token', list: ['token2', 'token1', 'token1'] }
  ]) {
    const run = single(group)
    t.equal(run({ secure: true, headers: { 'x-access-token': 'token1' } }).allow, true)
    t.equal(run({ secure: true, headers: { 'x-access-token': 'token2' } }).allow, true)
    t.equal(run({ secure: true, headers: { 'x-access-token': 'token3' } }).allow, false)
  }
  const one = single({ type: 'token', header: 'X-Access-Token', list: 'solo' })
  t.equal(one({ secure: true, headers: { 'x-access-token': 'solo' } }).allow, true)
})

t.test('tokens are stored as digests, not as text', async t => {
  const compiled = compileRules({ paths: { 'x/': 'g' }, groups: { g: rule } }, {})
  t.notMatch(JSON.stringify(compiled, (_k, v) => v instanceof Set ? [...v] : v), TOKEN)
  t.notMatch(JSON.stringify(compiled.keys[0]?.group.alternatives), TOKEN)
})

t.test('denial outcomes never carry the token', async t => {
  const compiled = compileRules({ paths: { 'x/': 'g' }, groups: { g: rule } }, {})
  for (const value of [TOKEN, 'attacker-guess']) {
    const outcome = evaluateRules(compiled, facts({ url: '/x', secure: false, headers: { 'x-access-token': value } }))
    t.equal(outcome.allow, false)
    t.notMatch(JSON.stringify(outcome), value)
  }
})

t.test('the AND example: whitelist plus token', async t => {
  const run = single([{ type: 'whitelist', list: ['192.168.0.55'] }, { type: 'token', header: 'X-Access-Token', value: '1234' }])
  t.equal(run({ ip: '192.168.0.55', secure: true, headers: { 'x-access-token': '1234' } }).allow, true)
  t.match(run({ ip: '192.168.0.56', secure: true, headers: { 'x-access-token': '1234' } }), { allow: false, ruleType: 'whitelist' })
  t.match(run({ ip: '192.168.0.55', secure: true, headers: {} }), { allow: false, ruleType: 'token' })
})
