// The stepUp option: every malformed value stops ready() with a coded error
// naming it, and the defaults follow the configured privileges.
import t from 'tap'
import { resolveOptions } from '../../lib/options/index.js'
import { readyWith, testDatabase } from '../helper.js'

t.test('each invalid stepUp value makes ready() fail with FST_DEFAULT_DENY_INVALID_OPTION', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['true', true, /'stepUp' must be an object or false/],
    ['an array', ['edit'], /'stepUp' must be an object or false/],
    ['null', null, /'stepUp' must be an object or false/],
    ['unknown key', { privilege: ['edit'] }, /'stepUp' has unknown key 'privilege'/],
    ['no privileges', { privileges: [] }, /'stepUp.privileges' must be a non-empty array/],
    ['unknown privilege', { privileges: ['publish'] }, /'stepUp.privileges' names unknown privilege 'publish'/],
    ['privilege in capitals', { privileges: ['Edit'] }, /'stepUp.privileges'/],
    ['privilege repeated', { privileges: ['edit', 'edit'] }, /'stepUp.privileges' must not repeat/],
    ['empty claim', { claim: '' }, /'stepUp.claim' must be a non-empty string/],
    ['claim not text', { claim: 7 }, /'stepUp.claim'/],
    ['no values', { values: [] }, /'stepUp.values' must be a non-empty array/],
    ['values not an array', { values: 'mfa' }, /'stepUp.values'/],
    ['value with a space', { values: ['m fa'] }, /'stepUp.values' must contain only visible ASCII/],
    ['value with a quote', { values: ['m"fa'] }, /'stepUp.values'/],
    ['value with a backslash', { values: ['m\\fa'] }, /'stepUp.values'/],
    ['value not ASCII', { values: ['mfä'] }, /'stepUp.values'/],
    ['value not text', { values: [1] }, /'stepUp.values'/],
    ['value repeated', { values: ['mfa', 'mfa'] }, /'stepUp.values' must not repeat/],
    ['maxAge zero', { maxAge: 0 }, /'stepUp.maxAge' must be an integer from 1 to 31536000/],
    ['maxAge negative', { maxAge: -5 }, /'stepUp.maxAge'/],
    ['maxAge fraction', { maxAge: 1.5 }, /'stepUp.maxAge'/],
    ['maxAge as text', { maxAge: '300' }, /'stepUp.maxAge'/],
    ['maxAge past a year', { maxAge: 31_536_001 }, /'stepUp.maxAge'/],
    ['acrValues not an array', { acrValues: 'gold' }, /'stepUp.acrValues'/],
    ['acrValue with a space', { acrValues: ['a b'] }, /'stepUp.acrValues'/]
  ]
  for (const [name, stepUp, message] of cases) {
    await t.rejects(readyWith(t, { stepUp }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message }, name)
  }
})

t.test('defaults: edit, delete and manage of those configured, amr, mfa/otp/hwk, no age, nothing asked', async (t) => {
  const { db } = await testDatabase(t)
  t.equal(resolveOptions({ db }).stepUp, null, 'off when absent')
  t.equal(resolveOptions({ db, stepUp: false }).stepUp, null, 'off with false')
  const on = resolveOptions({ db, stepUp: {} }).stepUp
  t.same([...on?.privileges ?? []], ['edit', 'delete', 'manage'])
  t.equal(on?.claim, 'amr')
  t.same([...on?.values ?? []], ['mfa', 'otp', 'hwk'])
  t.equal(on?.maxAge, null)
  t.same(on?.acrValues, [])
  t.same([...resolveOptions({ db, privileges: ['read', 'publish'], stepUp: {} }).stepUp?.privileges ?? []], ['manage'],
    'only the configured ones; manage always is')
  const acr = resolveOptions({ db, stepUp: { claim: 'acr', values: ['urn:example:gold'], maxAge: 900 } }).stepUp
  t.same(acr?.acrValues, ['urn:example:gold'], 'an acr claim asks for its own values')
  t.equal(acr?.maxAge, 900)
  t.same(resolveOptions({ db, stepUp: { claim: 'acr', values: ['gold'], acrValues: [] } }).stepUp?.acrValues, [], 'unless told otherwise')
})
