// With @fastify/jwt's verified-token cache on, the same token gives back the
// same claims object, and the plugin reuses the principal it made from it
// instead of making it again on every request. Reuse must never outlive what
// @fastify/jwt trusts: a token signed with a key that is no longer the
// secret's is refused, even though its principal was made before.
import t, { type Test } from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import defaultDeny from '../../lib/index.js'
import { TEST_RESOURCES, testDatabase } from '../helper.js'

const KEY_A = 'first-secret-that-is-long-enough-for-hs256-0123456789'
const KEY_B = 'second-secret-that-is-long-enough-for-hs256-987654321'

async function build (t: Test, verifyCache: boolean, secret: () => string) {
  const { db, schema } = await testDatabase(t)
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: async () => secret(), verify: { algorithms: ['HS256'], cache: verifyCache } })
  await app.register(defaultDeny, { db, schema, resources: TEST_RESOURCES, grantRoutes: false })
  const seen: unknown[] = []
  app.get('/me', { config: { permission: 'authenticated' } }, async (request) => {
    seen.push(request.principal)
    return { id: request.principal?.id }
  })
  await app.ready()
  t.teardown(async () => { await app.close() })
  return { app, seen }
}

t.test('the same token through the verified-token cache: one principal, reused', async (t) => {
  const { app, seen } = await build(t, true, () => KEY_A)
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'u1', groups: ['g1'] }, { key: KEY_A })}` }
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/me', headers })).statusCode, 200)
  t.equal(seen.length, 3)
  t.equal(seen[1], seen[0], 'the principal made for the first request')
  t.equal(seen[2], seen[0])
  t.same(seen[0], { kind: 'user', id: 'u1', groups: ['g1'], superuser: false, claims: (seen[0] as { claims: unknown }).claims })
})

t.test('without the verified-token cache every request makes its own', async (t) => {
  const { app, seen } = await build(t, false, () => KEY_A)
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'u1' }, { key: KEY_A })}` }
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ url: '/me', headers })).statusCode, 200)
  t.not(seen[1], seen[0])
  t.same(seen[1], seen[0], 'the same principal all the same')
})

t.test('a changed key refuses a token whose principal was reused', async (t) => {
  let key = KEY_A
  const { app } = await build(t, true, () => key)
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'u1' }, { key: KEY_A })}` }
  t.equal((await app.inject({ url: '/me', headers })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers })).statusCode, 200)
  key = KEY_B
  const refused = await app.inject({ url: '/me', headers })
  t.equal(refused.statusCode, 401, 'signed with the old key: refused')
  t.equal(refused.json().code, 'FST_DEFAULT_DENY_UNAUTHORIZED')
})
