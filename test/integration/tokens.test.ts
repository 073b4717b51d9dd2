// Every broken credential is a 401 with one generic body: never a 500 (which
// @fastify/jwt lets through for several fast-jwt errors), never anonymous.
import { createHmac, generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import defaultDeny from '../../lib/index.js'
import { build, SECRET, testDatabase } from '../helper.js'

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)
function hs256 (header: unknown, payload: unknown, secret: string | Buffer = SECRET) {
  const signingInput = `${b64(header)}.${b64(payload)}`
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
}

async function appWithPublicGrant (t: Parameters<typeof build>[0]) {
  const built = await build(t)
  let ran = 0
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await built.app.ready()
  // Anonymous may read: a token downgraded to anonymous would get a 200.
  await built.app.permissions.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: '1', privilege: 'read' })
  return { ...built, ran: () => ran }
}

t.test('each malformed or untrusted token is a generic 401', async (t) => {
  const { app, token, ran } = await appWithPublicGrant(t)
  const valid = token({ sub: 'alice' })
  const [h, p] = valid.split('.')
  const cases: Record<string, string> = {
    'bad signature': `${h}.${p}.${Buffer.from('x'.repeat(32)).toString('base64url')}`,
    'signed with another secret': hs256({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice' }, 'another-secret-another-secret-another'),
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice' })}.`,
    'alg NONE': `${b64({ alg: 'NONE', typ: 'JWT' })}.${b64({ sub: 'alice' })}.`,
    'alg HS512 not allowed': (() => {
      const input = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64({ sub: 'alice' })}`
      return `${input}.${createHmac('sha512', SECRET).update(input).digest('base64url')}`
    })(),
    expired: token({ sub: 'alice', exp: now() - 60 }),
    'nbf in the future': token({ sub: 'alice', nbf: now() + 3600 }),
    'payload is a string': hs256({ alg: 'HS256', typ: 'JWT' }, 'just a string'),
    'payload is an array': hs256({ alg: 'HS256', typ: 'JWT' }, ['alice']),
    'payload is null': hs256({ alg: 'HS256', typ: 'JWT' }, null),
    'invalid characters in the MAC': `${h}.${p}.!!!***`,
    'header is not JSON': `${b64('{not json')}.${p}.abc`,
    'two segments': `${h}.${p}`,
    'empty token': '',
    'no subject': token({ name: 'alice' }),
    'numeric subject': token({ sub: 42 }),
    'empty subject': token({ sub: '' }),
    'subject with NUL': token({ sub: 'ali\u0000ce' }),
    'over-long subject': token({ sub: 'a'.repeat(10_000) }),
    'groups not an array': token({ sub: 'alice', groups: 'editors' }),
    'groups with a non-string': token({ sub: 'alice', groups: ['editors', 7] })
  }
  for (const [name, credential] of Object.entries(cases)) {
    const res = await app.inject({ url: '/d/1', headers: { authorization: `Bearer ${credential}` } })
    t.equal(res.statusCode, 401, name)
    t.same(res.json(), { statusCode: 401, code: 'FST_DEFAULT_DENY_UNAUTHORIZED', error: 'Unauthorized', message: 'Unauthorized' }, `${name}: generic body`)
  }
  for (const header of ['Basic YWxpY2U6cHc=', 'Bearer', 'bearer', '', 'Token abc']) {
    const res = await app.inject({ url: '/d/1', headers: { authorization: header } })
    t.equal(res.statusCode, 401, `authorization: '${header}'`)
  }
  t.equal(ran(), 0, 'the handler never ran')
  t.equal((await app.inject({ url: '/d/1' })).statusCode, 200, 'the same route without any credentials is anonymous')
})

t.test('algorithm confusion: an HS256 token signed with the RSA public key', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' })
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwt, {
    secret: { public: publicPem, private: privateKey.export({ type: 'pkcs8', format: 'pem' }) },
    sign: { algorithm: 'RS256' },
    verify: { algorithms: ['RS256'] }
  })
  await app.register(defaultDeny, { db, schema })
  app.get('/me', { config: { permission: 'authenticated' } }, async (request) => request.principal?.id)
  await app.ready()

  t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'alice' })}` } })).statusCode, 200)
  const forged = hs256({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice' }, Buffer.from(publicPem as string))
  const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${forged}` } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_UNAUTHORIZED')
})

t.test('the 401 carries a WWW-Authenticate challenge', async (t) => {
  const { app } = await appWithPublicGrant(t)
  const res = await app.inject({ url: '/d/1', headers: { authorization: 'Bearer x.y.z' } })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /^Bearer/)
})
