// Step-up read from the claims the operator names: a maximum age from
// auth_time, an `acr` claim, a claim and values of one's own, and the
// challenge that asks for them.
import t from 'tap'
import { build } from '../helper.js'

const now = () => Math.floor(Date.now() / 1000)

async function setup (t: Parameters<typeof build>[0], stepUp: Record<string, unknown>) {
  const built = await build(t, { stepUp })
  let ran = 0
  built.app.put('/d/:id', { config: { permission: { resource: 'document', privilege: 'edit' } } }, async () => { ran++; return 'edited' })
  await built.app.ready()
  await built.app.permissions.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'edit' })
  const edit = async (claims: Record<string, unknown>) => await built.app.inject({ method: 'PUT', url: '/d/d1', headers: built.as('carol', claims) })
  return { ...built, edit, ran: () => ran }
}

t.test('maxAge: a second factor counts for that many seconds from auth_time', async (t) => {
  const { edit, ran } = await setup(t, { maxAge: 300 })
  t.equal((await edit({ amr: ['mfa'], auth_time: now() - 10 })).statusCode, 200, 'fresh')
  t.equal((await edit({ amr: ['mfa'], auth_time: now() + 30 })).statusCode, 200, 'a little ahead of this clock: the issuer\'s may run fast')
  const stale = await edit({ amr: ['mfa'], auth_time: now() - 301 })
  t.equal(stale.statusCode, 401, 'stale')
  t.equal(stale.json().code, 'FST_DEFAULT_DENY_STEP_UP_REQUIRED')
  t.equal(stale.headers['www-authenticate'],
    'Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age="300"')
  for (const [name, authTime] of [['missing', undefined], ['a string', String(now())], ['far in the future', now() + 3600], ['null', null]] as const) {
    t.equal((await edit({ amr: ['mfa'], ...(authTime === undefined ? {} : { auth_time: authTime }) })).statusCode, 401, `auth_time ${name}`)
  }
  const noFactor = await edit({ amr: ['pwd'], auth_time: now() })
  t.equal(noFactor.statusCode, 401, 'a fresh password alone')
  t.equal(noFactor.headers['www-authenticate'],
    'Bearer error="insufficient_user_authentication", error_description="A second authentication factor is required", max_age="300"')
  t.equal(ran(), 2, 'the handler ran only for the two accepted requests')
})

t.test('an acr claim: its values are what the challenge asks for', async (t) => {
  const { edit } = await setup(t, { claim: 'acr', values: ['urn:example:gold', 'urn:example:platinum'] })
  t.equal((await edit({ acr: 'urn:example:gold' })).statusCode, 200)
  t.equal((await edit({ acr: 'urn:example:platinum' })).statusCode, 200)
  const silver = await edit({ acr: 'urn:example:silver' })
  t.equal(silver.statusCode, 401)
  t.equal(silver.headers['www-authenticate'],
    'Bearer error="insufficient_user_authentication", error_description="A second authentication factor is required", acr_values="urn:example:gold urn:example:platinum"')
  t.equal((await edit({ amr: ['mfa'] })).statusCode, 401, 'amr no longer counts')
})

t.test('a claim and values of one\'s own, and acr_values asked for explicitly', async (t) => {
  const { edit } = await setup(t, { claim: 'methods', values: ['webauthn'], acrValues: ['phr'], maxAge: 60 })
  t.equal((await edit({ methods: ['password', 'webauthn'], auth_time: now() })).statusCode, 200)
  const res = await edit({ methods: ['password'], amr: ['mfa'], auth_time: now() })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'],
    'Bearer error="insufficient_user_authentication", error_description="A second authentication factor is required", acr_values="phr", max_age="60"')
})
