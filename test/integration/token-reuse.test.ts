// With `tokenReuse`, a request whose Authorization header was verified before
// is not verified again (counted on `request.jwtVerify`), gets the same
// principal and `request.user`, and still gets its grants checked; a token
// past its exp is refused although it was reused before; forgetTokens()
// makes every token verified again; the host's `trusted` runs on every
// request; a formatUser that changes the claims turns reuse off for them;
// and the configurations a reused token would skip are refused at start.
import t, { type Test } from 'tap'
import jwt from '@fastify/jwt'
import Fastify, { type FastifyRequest } from 'fastify'
import defaultDeny from '../../lib/index.js'
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'
import { SECRET, TEST_RESOURCES, testDatabase } from '../helper.js'

interface Setup {
  tokenReuse?: FastifyDefaultDenyOptions['tokenReuse']
  jwt?: Record<string, unknown>
  resolvePrincipal?: FastifyDefaultDenyOptions['resolvePrincipal']
}

async function build (t: Test, setup: Setup = {}) {
  const { db, schema } = await testDatabase(t)
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] }, ...setup.jwt })
  let verified = 0
  // Added before the plugin's hook, so it runs first: every call of jwtVerify is counted.
  app.addHook('onRequest', async (request) => {
    const verify = request.jwtVerify.bind(request) as (...args: unknown[]) => Promise<unknown>
    // @fastify/jwt calls itself again with a callback: only the outer call is a verification.
    (request as unknown as { jwtVerify: unknown }).jwtVerify = (...args: unknown[]) => {
      if (typeof args[1] !== 'function') verified++
      return verify(...args)
    }
  })
  const options: FastifyDefaultDenyOptions = { db, schema, resources: TEST_RESOURCES, grantRoutes: false, tokenReuse: { trusted: false }, ...setup }
  delete (options as { jwt?: unknown }).jwt
  await app.register(defaultDeny, options)
  const users: unknown[] = []
  const principals: unknown[] = []
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request: FastifyRequest) => {
    users.push(request.user)
    principals.push(request.principal)
    return { id: request.principal?.id }
  })
  await app.ready()
  t.teardown(async () => { await app.close() })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'u1' }, resource: 'document', id: '1', privilege: 'read' })
  const bearer = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${app.jwt.sign(claims)}` })
  return { app, bearer, users, principals, verified: () => verified }
}

function fakeClock (t: Test, start = Date.now()) {
  const real = Date.now
  let now = start
  Date.now = () => now
  t.teardown(() => { Date.now = real })
  return { advance (ms: number) { now += ms } }
}

t.test('a token seen before is not verified again; its grants are still checked', async (t) => {
  const { app, bearer, users, principals, verified } = await build(t)
  const headers = bearer({ sub: 'u1', groups: ['g1'] })
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal(verified(), 1, 'verified once, reused twice')
  t.equal(principals[1], principals[0], 'the principal made once')
  t.equal(principals[2], principals[0])
  t.same(users[0], { sub: 'u1', groups: ['g1'], iat: (users[0] as { iat: number }).iat }, 'request.user is the token\'s claims')
  t.equal(users[2], users[0], 'the same object on every reuse')
  t.ok(Object.isFrozen(users[0]), 'frozen')
  t.equal((await app.inject({ url: '/d/2', headers })).statusCode, 403, 'a reused token gets no grant it does not hold')
  t.equal(verified(), 1)
  const other = bearer({ sub: 'u2' })
  t.equal((await app.inject({ url: '/d/1', headers: other })).statusCode, 403)
  t.equal(verified(), 2, 'another token is verified')
})

t.test('other bytes for the same token are verified afresh', async (t) => {
  const { app, bearer, verified } = await build(t)
  const { authorization } = bearer({ sub: 'u1' })
  const token = authorization.slice('Bearer '.length)
  t.equal((await app.inject({ url: '/d/1', headers: { authorization } })).statusCode, 200)
  t.equal((await app.inject({ url: '/d/1', headers: { authorization: `bearer ${token}` } })).statusCode, 200, 'another spelling of the scheme: @fastify/jwt accepts it')
  t.equal(verified(), 2, 'but as other bytes it was verified')
  const [h, p, s] = token.split('.') as [string, string, string]
  for (const variant of [`${h}.${p}=.${s}`, `${h}.${p}.${s}=`, `${h}=.${p}.${s}`]) {
    const res = await app.inject({ url: '/d/1', headers: { authorization: `Bearer ${variant}` } })
    t.equal(res.statusCode, 401, `padded: ${variant.replace(/[^.=]/g, '')}`)
  }
  t.equal(verified(), 5, 'each verified, and refused')
  t.equal((await app.inject({ url: '/d/1', headers: { authorization } })).statusCode, 200)
  t.equal(verified(), 5, 'the first is still reused')
})

t.test('a reused token past its exp is refused', async (t) => {
  const { app, bearer, verified } = await build(t)
  const clock = fakeClock(t)
  const headers = bearer({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 30 })
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal(verified(), 1)
  clock.advance(31_000)
  const res = await app.inject({ url: '/d/1', headers })
  t.equal(res.statusCode, 401, 'expired: refused')
  t.equal(res.json().code, 'FST_DEFAULT_DENY_UNAUTHORIZED')
  t.equal(verified(), 2, 'because it was verified again')
})

t.test('maxAge: a token is verified again after it', async (t) => {
  const { app, bearer, verified } = await build(t, { tokenReuse: { trusted: false, maxAge: 5_000 } })
  const clock = fakeClock(t)
  const headers = bearer({ sub: 'u1' })
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  clock.advance(4_999)
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal(verified(), 1)
  clock.advance(1)
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal(verified(), 2)
})

t.test('forgetTokens() empties the map: every token is verified again', async (t) => {
  const { app, bearer, verified } = await build(t)
  const one = bearer({ sub: 'u1' })
  const two = bearer({ sub: 'u2' })
  await app.inject({ url: '/d/1', headers: one })
  await app.inject({ url: '/d/1', headers: two })
  await app.inject({ url: '/d/1', headers: one })
  t.equal(verified(), 2)
  t.equal(app.permissions.forgetTokens(), 2)
  await app.inject({ url: '/d/1', headers: one })
  t.equal(verified(), 3)
})

t.test('a new secret after a restart refuses the tokens the old process reused', async (t) => {
  const first = await build(t)
  const headers = first.bearer({ sub: 'u1' })
  t.equal((await first.app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal((await first.app.inject({ url: '/d/1', headers })).statusCode, 200)
  const second = await build(t, { jwt: { secret: `${SECRET}-rotated` } })
  t.equal((await second.app.inject({ url: '/d/1', headers })).statusCode, 401)
})

t.test('tokenReuse.trusted runs on every request, reused or not', async (t) => {
  const revoked = new Set<string>()
  let asked = 0
  let failing = false
  const { app, bearer, verified } = await build(t, {
    tokenReuse: {
      trusted: async (_request, claims) => {
        asked++
        if (failing) throw new Error('revocation list unreachable')
        return !revoked.has(claims.jti as string)
      }
    }
  })
  const headers = bearer({ sub: 'u1', jti: 'a' })
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal(verified(), 1)
  t.equal(asked, 2)
  revoked.add('a')
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 401, 'revoked: refused though reused')
  t.equal(verified(), 1)
  revoked.clear()
  failing = true
  t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 503, 'a failing test fails closed')
})

t.test('with resolvePrincipal the resolver still runs on every request', async (t) => {
  let resolved = 0
  const { app, bearer, verified } = await build(t, {
    resolvePrincipal: (_request, claims) => { resolved++; return { id: claims.sub as string, groups: [], superuser: false } }
  })
  const headers = bearer({ sub: 'u1' })
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal(verified(), 1)
  t.equal(resolved, 3)
})

t.test('a formatUser that changes the claims: those tokens are verified every time', async (t) => {
  const { app, bearer, users, verified } = await build(t, { jwt: { formatUser: (claims: Record<string, unknown>) => ({ ...claims, name: 'x' }) } })
  const headers = bearer({ sub: 'u1' })
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/d/1', headers })).statusCode, 200)
  t.equal(verified(), 3)
  t.match(users[2], { sub: 'u1', name: 'x' })
})

t.test('configurations a reused token would skip are refused at registration', async (t) => {
  const cases: Record<string, [Record<string, unknown>, unknown, RegExp]> = {
    'a secret function': [{ secret: async () => SECRET }, { trusted: false }, /secret function/],
    'a cookie': [{ secret: SECRET, cookie: { cookieName: 'token', signed: false } }, { trusted: false }, /Authorization header only/],
    'tokenReuse: true': [{ secret: SECRET }, true, /trusted: false/],
    'trusted not said': [{ secret: SECRET }, { maxAge: 1000 }, /tokenReuse.trusted/]
  }
  for (const [name, [jwtOptions, tokenReuse, message]] of Object.entries(cases)) {
    const { db, schema } = await testDatabase(t)
    const app = Fastify({ logger: false })
    await app.register(jwt, jwtOptions as never)
    app.register(defaultDeny, { db, schema, resources: TEST_RESOURCES, grantRoutes: false, tokenReuse } as FastifyDefaultDenyOptions)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message }, name)
    await app.close()
  }
})
