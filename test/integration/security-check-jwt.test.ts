// The @fastify/jwt set-up, as far as it can be seen from outside: forged
// tokens are handed to fastify.jwt.verify (unsigned, and signed with sample
// secrets), and verify.algorithms is read from its options.
import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import defaultDeny from '../../lib/index.js'
import { SAMPLE_SECRETS } from '../../lib/security/jwt-probe.js'
import { SECRET, testDatabase } from '../helper.js'
import { ids, secured } from '../security-helper.js'

const JWT_FINDINGS = ['jwt-unsigned-accepted', 'jwt-sample-secret', 'jwt-algorithms-unpinned']
const jwtFindings = (found: string[]) => found.filter((id) => JWT_FINDINGS.includes(id))

t.test('a strong secret with pinned algorithms: no JWT finding', async (t) => {
  const app = await secured(t, { jwt: { secret: SECRET, verify: { algorithms: ['HS256'] } } })
  await app.ready()
  t.same(jwtFindings(ids(await app.permissions.checkSecurity())), [])
})

t.test('a well-known sample secret is found by forging a token with it', async (t) => {
  for (const secret of ['changeme', 'your-256-bit-secret', 'secret']) {
    const app = await secured(t, { jwt: { secret, verify: { algorithms: ['HS256'] } } })
    await app.ready()
    const findings = await app.permissions.checkSecurity()
    t.same(jwtFindings(ids(findings)), ['jwt-sample-secret'], secret)
    if (secret === 'changeme') t.notMatch(findings.find((finding) => finding.id === 'jwt-sample-secret')?.message, secret, 'the secret itself is not repeated')
  }
  t.ok(SAMPLE_SECRETS.length >= 40, 'a list of the usual placeholders')
})

t.test('the sample secret is found whatever HMAC algorithm is pinned, and with strict claim checks', async (t) => {
  const app = await secured(t, {
    jwt: { secret: 'supersecret', verify: { algorithms: ['HS512'], allowedIss: 'https://issuer.example', allowedAud: ['api'], requiredClaims: ['tenant'] } }
  })
  await app.ready()
  t.same(jwtFindings(ids(await app.permissions.checkSecurity())), ['jwt-sample-secret'])
})

t.test('algorithms not pinned', async (t) => {
  const app = await secured(t, { jwt: { secret: SECRET } })
  await app.ready()
  const findings = await app.permissions.checkSecurity()
  t.same(jwtFindings(ids(findings)), ['jwt-algorithms-unpinned'])
  t.equal(findings.find((finding) => finding.id === 'jwt-algorithms-unpinned')?.level, 'warning')
})

t.test("'none' among the accepted algorithms is an error", async (t) => {
  const app = await secured(t, { jwt: { secret: SECRET, verify: { algorithms: ['HS256', 'none'] } } as never })
  await app.ready()
  const findings = await app.permissions.checkSecurity()
  t.same(jwtFindings(ids(findings)), ['jwt-unsigned-accepted'])
  t.equal(findings.find((finding) => finding.id === 'jwt-unsigned-accepted')?.level, 'error')
})

t.test('a key callback is never called by the check, so it is not probed', async (t) => {
  let calls = 0
  const secret = (_request: unknown, _token: unknown, callback: (err: Error | null, secret?: string) => void) => {
    calls++
    callback(null, 'changeme')
  }
  const app = await secured(t, { jwt: { secret, verify: { algorithms: ['HS256'] } } as never })
  await app.ready()
  t.same(jwtFindings(ids(await app.permissions.checkSecurity())), [], 'nothing can be said about a secret it cannot try')
  t.equal(calls, 0, 'the callback was not called')
})

t.test('an asymmetric key: no shared secret to guess', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto')
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const secret = { public: publicKey.export({ type: 'spki', format: 'pem' }), private: privateKey.export({ type: 'pkcs8', format: 'pem' }) }
  const app = await secured(t, { jwt: { secret, sign: { algorithm: 'RS256' }, verify: { algorithms: ['RS256'] } } as never })
  await app.ready()
  t.same(jwtFindings(ids(await app.permissions.checkSecurity())), [])
})

t.test('each namespace of @fastify/jwt is checked too', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(async () => { await app.close() })
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  // Registered after the root one, a namespace becomes a property of fastify.jwt.
  await app.register(jwt, { namespace: 'partner', secret: 'changeme', verify: { algorithms: ['HS256'] } })
  await app.register(defaultDeny, { db, schema })
  await app.ready()
  t.same(jwtFindings(ids(await app.permissions.checkSecurity())), ['jwt-sample-secret'], "the partner namespace's secret, not the root one")
})
