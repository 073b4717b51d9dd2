// The step-up rule on its own: claims and an instant in, a verdict out. No
// HTTP, no database.
import t from 'tap'
import { ANONYMOUS, userPrincipal } from '../../lib/decision/principal.js'
import { AUTH_TIME_LEEWAY, requiresStepUp, stepUpShortfall, stepUpVerdict, type StepUpPolicy } from '../../lib/decision/step-up.js'
import { stepUpChallenges } from '../../lib/http/step-up.js'

const NOW = Date.UTC(2026, 11, 3, 8, 0, 0)
const seconds = NOW / 1000
const policy = (extra: Partial<StepUpPolicy> = {}): StepUpPolicy => ({
  privileges: new Set(['edit', 'delete', 'manage']),
  claim: 'amr',
  values: new Set(['mfa', 'otp', 'hwk']),
  maxAge: null,
  acrValues: [],
  ...extra
})

t.test('which privileges need it', async (t) => {
  t.equal(requiresStepUp(null, 'edit'), false, 'off')
  t.equal(requiresStepUp(policy(), 'edit'), true)
  t.equal(requiresStepUp(policy(), 'read'), false)
  t.equal(requiresStepUp(policy(), 'manage'), true)
})

t.test('the claim: an array holding an accepted value, or a string equal to one', async (t) => {
  const p = policy()
  t.equal(stepUpShortfall(p, { amr: ['pwd', 'otp'] }, NOW), null)
  t.equal(stepUpShortfall(p, { amr: 'hwk' }, NOW), null)
  for (const amr of [undefined, ['pwd'], [], 'pwd', ['Mfa'], [['mfa']], { 0: 'mfa' }, 1, true, null]) {
    t.equal(stepUpShortfall(p, { amr }, NOW), 'factor', JSON.stringify(amr) ?? 'undefined')
  }
  t.equal(stepUpShortfall(p, null, NOW), 'factor', 'no token')
  t.equal(stepUpShortfall(policy({ claim: 'acr', values: new Set(['gold']) }), { acr: 'gold', amr: ['pwd'] }, NOW), null)
})

t.test('maxAge against auth_time, with a little leeway ahead', async (t) => {
  const p = policy({ maxAge: 300 })
  t.equal(stepUpShortfall(p, { amr: ['mfa'], auth_time: seconds - 300 }, NOW), null, 'exactly maxAge old')
  t.equal(stepUpShortfall(p, { amr: ['mfa'], auth_time: seconds - 301 }, NOW), 'max_age', 'a second older')
  t.equal(stepUpShortfall(p, { amr: ['mfa'], auth_time: seconds + AUTH_TIME_LEEWAY }, NOW), null, 'ahead by the leeway')
  t.equal(stepUpShortfall(p, { amr: ['mfa'], auth_time: seconds + AUTH_TIME_LEEWAY + 1 }, NOW), 'max_age', 'further ahead')
  for (const authTime of [undefined, String(seconds), null, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.equal(stepUpShortfall(p, { amr: ['mfa'], auth_time: authTime }, NOW), 'max_age', `auth_time ${String(authTime)}`)
  }
  t.equal(stepUpShortfall(p, { amr: ['pwd'], auth_time: seconds }, NOW), 'factor', 'the factor is asked first')
})

t.test('the verdict for a principal and a privilege', async (t) => {
  const alice = userPrincipal('alice', [], false, { sub: 'alice', amr: ['mfa'] })
  const bob = userPrincipal('bob', [], true, { sub: 'bob', amr: ['pwd'] })
  t.equal(stepUpVerdict(null, bob, 'edit', NOW), 'not-required')
  t.equal(stepUpVerdict(policy(), bob, 'read', NOW), 'not-required')
  t.equal(stepUpVerdict(policy(), alice, 'edit', NOW), 'satisfied')
  t.equal(stepUpVerdict(policy(), bob, 'delete', NOW), 'factor', 'a superuser too')
  t.equal(stepUpVerdict(policy(), ANONYMOUS, 'edit', NOW), 'factor')
})

t.test('the challenges follow RFC 9470', async (t) => {
  t.same(stepUpChallenges(policy()), {
    factor: 'Bearer error="insufficient_user_authentication", error_description="A second authentication factor is required"',
    max_age: 'Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required"',
    anonymous: 'Bearer'
  })
  t.same(stepUpChallenges(policy({ maxAge: 60, acrValues: ['urn:a', 'urn:b'] })), {
    factor: 'Bearer error="insufficient_user_authentication", error_description="A second authentication factor is required", acr_values="urn:a urn:b", max_age="60"',
    max_age: 'Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", acr_values="urn:a urn:b", max_age="60"',
    anonymous: 'Bearer acr_values="urn:a urn:b", max_age="60"'
  })
})
