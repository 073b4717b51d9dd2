// The verified-token map of `tokenReuse` on its own, on a fake clock: what it
// keeps (only the token's own payload, only while the token is valid by its
// own times), its bounds (entries, bytes, age, header length), and the
// option's refusals of what a reused token would skip.
import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import type { FastifyRequest } from 'fastify'
import { MAX_REUSED_HEADER, TokenReuse } from '../../lib/http/token-reuse.js'
import { jwtForReuse, tokenReuseOption, type JwtForReuse } from '../../lib/options/token-reuse.js'
import { userPrincipal } from '../../lib/decision/principal.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
// The map reads the payload only; the signature was checked by whoever verified it.
const header = (payload: Record<string, unknown>) => `Bearer ${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.c2lnbmF0dXJl`
const request = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as FastifyRequest & { user?: unknown }
const JWT: JwtForReuse = { decoratorName: 'user', maxAge: null }
const T0 = 1_800_000_000_000

function map (options: Record<string, unknown> = {}, jwtView: JwtForReuse = JWT) {
  let now = T0
  const settings = tokenReuseOption({ tokenReuse: { trusted: false, ...options } })
  if (settings === null) throw new Error('off')
  const tokens = new TokenReuse(settings, jwtView, () => now)
  return { tokens, advance: (ms: number) => { now += ms }, at: (ms: number) => { now = ms } }
}

/** Stores the header's payload as a verification would, and says whether it was kept. */
function verified (tokens: TokenReuse, authorization: string, claims?: Record<string, unknown>): boolean {
  const payload = claims ?? JSON.parse(Buffer.from(authorization.split(' ')[1]!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
  const before = tokens.size
  tokens.remember(request(authorization), payload, userPrincipal(String(payload.sub), []))
  return tokens.size > before || tokens.seen(request(authorization)) !== undefined
}

t.test('a header seen before gives back its claims and principal, and sets request.user', async (t) => {
  const { tokens } = map()
  const h = header({ sub: 'u1', groups: ['g1'] })
  t.equal(tokens.seen(request(h)), undefined, 'not before it was verified')
  t.ok(verified(tokens, h))
  const r = request(h)
  const seen = tokens.seen(r)
  t.equal(seen?.principal?.id, 'u1')
  t.equal(r.user, seen?.claims, 'request.user is what jwtVerify() answered')
  t.ok(Object.isFrozen(seen?.claims) && Object.isFrozen(seen?.claims.groups), 'frozen, nested values too: no handler changes it for the next request')
  t.equal(tokens.seen(request()), undefined, 'no header: nothing')
})

t.test('other bytes are another token, verified afresh', async (t) => {
  const { tokens } = map()
  const h = header({ sub: 'u1' })
  verified(tokens, h)
  const [scheme, token] = h.split(' ') as [string, string]
  for (const other of [`bearer ${token}`, `${scheme}  ${token}`, `${h}=`, `${h} `, h.slice(0, -1), `${scheme} ${token.replace(/\.[^.]+\./, (m) => `${m.slice(0, -1)}=.`)}`]) {
    t.equal(tokens.seen(request(other)), undefined, JSON.stringify(other.slice(-12)))
  }
})

t.test('never past the token\'s exp, never before its nbf, never past iat + verify.maxAge', async (t) => {
  const { tokens, at } = map({ maxAge: 3_600_000 })
  const expiring = header({ sub: 'u1', exp: (T0 + 10_000) / 1000 })
  t.ok(verified(tokens, expiring))
  at(T0 + 9_999)
  t.ok(tokens.seen(request(expiring)), 'a millisecond before exp')
  at(T0 + 10_000)
  t.equal(tokens.seen(request(expiring)), undefined, 'at exp: verified again (and refused there)')
  t.equal(tokens.size, 0, 'and dropped')

  at(T0)
  const early = header({ sub: 'u1', nbf: (T0 + 5_000) / 1000 })
  t.notOk(verified(tokens, early), 'accepted within a clock tolerance before its nbf: not kept')
  const active = header({ sub: 'u2', nbf: (T0 - 1_000) / 1000 })
  t.ok(verified(tokens, active))
  at(T0 - 2_000)
  t.equal(tokens.seen(request(active)), undefined, 'the clock went back before nbf: not reused')

  const expired = header({ sub: 'u1', exp: (T0 - 1_000) / 1000 })
  at(T0)
  t.notOk(verified(tokens, expired), 'expired already (accepted within a clock tolerance): not kept')

  const issued = map({ maxAge: 3_600_000 }, { decoratorName: 'user', maxAge: 30_000 })
  const old = header({ sub: 'u1', iat: (T0 - 20_000) / 1000 })
  t.ok(verified(issued.tokens, old))
  issued.at(T0 + 9_999)
  t.ok(issued.tokens.seen(request(old)))
  issued.at(T0 + 10_000)
  t.equal(issued.tokens.seen(request(old)), undefined, 'verify.maxAge after iat')
})

t.test('maxAge bounds how long a token goes without its verifier', async (t) => {
  const { tokens, advance } = map({ maxAge: 1_000 })
  const h = header({ sub: 'u1', exp: (T0 + 3_600_000) / 1000 })
  verified(tokens, h)
  advance(999)
  t.ok(tokens.seen(request(h)))
  advance(1)
  t.equal(tokens.seen(request(h)), undefined, 'verified again after maxAge, exp or not')
})

t.test('maxEntries and maxBytes: the oldest goes first', async (t) => {
  const { tokens } = map({ maxEntries: 3 })
  const headers = Array.from({ length: 5 }, (_, i) => header({ sub: `u${i}` }))
  for (const h of headers) verified(tokens, h)
  t.equal(tokens.size, 3)
  t.same(headers.map((h) => tokens.seen(request(h)) !== undefined), [false, false, true, true, true])

  const small = map({ maxBytes: 3 * (headers[0]!.length * 4 + 400) })
  for (const h of headers) verified(small.tokens, h)
  t.equal(small.tokens.size, 3, 'three entries fit the bytes')
  t.ok(small.tokens.bytes <= 3 * (headers[0]!.length * 4 + 400))
  t.equal(small.tokens.forget(), 3, 'forget() says how many it held')
  t.equal(small.tokens.size, 0)
  t.equal(small.tokens.bytes, 0)
  t.equal(small.tokens.seen(request(headers[4])), undefined, 'and reuses none after')
})

t.test('a header longer than MAX_REUSED_HEADER is verified every time', async (t) => {
  const { tokens } = map()
  const long = header({ sub: 'u1', pad: 'x'.repeat(MAX_REUSED_HEADER) })
  t.notOk(verified(tokens, long))
})

t.test('only the token\'s own payload is kept: a formatUser that changed it is never reused', async (t) => {
  const { tokens } = map()
  const h = header({ sub: 'u1', groups: ['g1'] })
  t.notOk(verified(tokens, h, { sub: 'u1', groups: ['g1'], role: 'admin' }), 'a claim added')
  t.notOk(verified(tokens, h, { sub: 'u1', groups: ['g2'] }), 'a claim changed')
  t.notOk(verified(tokens, h, { sub: 'u1' }), 'a claim removed')
  t.notOk(verified(tokens, h, Object.assign(Object.create({ role: 'admin' }) as object, { sub: 'u1', groups: ['g1'] })), 'another prototype')
  t.notOk(verified(tokens, h, { header: {}, payload: { sub: 'u1', groups: ['g1'] } }), 'verify.complete')
  t.ok(verified(tokens, h, { groups: ['g1'], sub: 'u1' }), 'the same claims in another order are the payload')
})

t.test('the option: off unless an object that says what trusted is', async (t) => {
  t.equal(tokenReuseOption({}), null)
  t.equal(tokenReuseOption({ tokenReuse: false }), null)
  for (const value of [true, {}, { trusted: true }, { trusted: 'yes' }, [], { trusted: false, maxAge: 0 }, { trusted: false, maxAge: 3_600_001 }, { trusted: false, maxEntries: 1.5 }, { trusted: false, cache: true }]) {
    t.throws(() => tokenReuseOption({ tokenReuse: value }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION' }, JSON.stringify(value))
  }
  t.match(tokenReuseOption({ tokenReuse: { trusted: false } }), { trusted: null, maxEntries: 10_000, maxBytes: 8 * 1024 * 1024, maxAge: 60_000 })
})

t.test('@fastify/jwt configurations a reused token would skip are refused', async (t) => {
  const SECRET = 'a-secret-that-is-long-enough-for-hs256-0123456789'
  async function jwtOf (options: Record<string, unknown>) {
    const app = Fastify()
    await app.register(jwt, options as never)
    await app.ready()
    t.teardown(() => app.close())
    return (app as unknown as { jwt: unknown }).jwt
  }
  const refused: Record<string, Record<string, unknown>> = {
    'a secret function': { secret: (_request: unknown, _token: unknown, cb: (e: null, s: string) => void) => { cb(null, SECRET) } },
    'an async secret function': { secret: async () => SECRET },
    'a public key function': { secret: { private: SECRET, public: async () => SECRET } },
    'a cookie': { secret: SECRET, cookie: { cookieName: 'token', signed: false } },
    extractToken: { secret: SECRET, verify: { extractToken: () => 'x' } },
    'verify.maxAge as a string': { secret: SECRET, verify: { maxAge: '1h' } },
    'a matcher with its own test()': { secret: SECRET, verify: { allowedJti: { test: () => true } } },
    'a matcher with its own test(), in a list': { secret: SECRET, verify: { allowedAud: ['app', { test: () => true }] } },
    'a namespace only': { secret: SECRET, namespace: 'a' }
  }
  for (const [name, options] of Object.entries(refused)) {
    const decorator = await jwtOf(options)
    t.throws(() => jwtForReuse(decorator), { code: 'FST_DEFAULT_DENY_INVALID_OPTION' }, name)
  }
  t.throws(() => jwtForReuse(undefined), { code: 'FST_DEFAULT_DENY_INVALID_OPTION' }, 'no @fastify/jwt')
  t.same(jwtForReuse(await jwtOf({ secret: SECRET })), { decoratorName: 'user', maxAge: null })
  t.same(jwtForReuse(await jwtOf({ secret: SECRET, verify: { maxAge: 30 }, decoratorName: 'account' })), { decoratorName: 'account', maxAge: 30_000 })
  t.same(jwtForReuse(await jwtOf({ secret: SECRET, verify: { allowedIss: 'issuer', allowedAud: ['app', /^api-/] } })), { decoratorName: 'user', maxAge: null }, 'strings and regular expressions')
})
