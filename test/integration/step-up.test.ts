// Multi-factor step-up on resource routes: reads unaffected, edit and delete
// refused with a 401 challenge until the token carries a second factor;
// tokens issued before the option was turned on are judged at once.
import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

const STEP_UP = { statusCode: 401, code: 'FST_DEFAULT_DENY_STEP_UP_REQUIRED', error: 'Unauthorized', message: 'A stronger authentication is required' }
const FACTOR_CHALLENGE = 'Bearer error="insufficient_user_authentication", error_description="A second authentication factor is required"'

async function setup (t: Parameters<typeof build>[0], options: Parameters<typeof build>[1] = {}) {
  const built = await build(t, { superuserClaim: 'su', stepUp: {}, ...options })
  let ran = 0
  for (const [method, privilege] of [['GET', 'read'], ['PUT', 'edit'], ['DELETE', 'delete']] as const) {
    built.app.route({ method, url: '/d/:id', config: { permission: { resource: 'document', privilege } }, handler: async () => { ran++; return privilege } })
  }
  built.app.get('/me', { config: { permission: 'authenticated' } }, async () => 'me')
  built.app.get('/health', { config: { permission: 'public' } }, async () => 'ok')
  await built.app.ready()
  await built.app.permissions.replace({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privileges: ['read', 'edit', 'delete'] })
  return { ...built, ran: () => ran }
}

t.test('reads are unaffected; edit and delete need a second factor', async (t) => {
  const { app, as, ran } = await setup(t)
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 200, 'read without a second factor')
  for (const method of ['PUT', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/d/d1', headers: as('carol', { amr: ['pwd'] }) })
    t.equal(res.statusCode, 401, `${method} with a password only`)
    t.same(res.json(), STEP_UP, `${method}: the step-up code, a generic body`)
    t.equal(res.headers['www-authenticate'], FACTOR_CHALLENGE, `${method}: the RFC 9470 challenge`)
  }
  t.equal(ran(), 1, 'the handler ran for the read only')
  t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol') })).statusCode, 401, 'no amr claim at all')
  for (const amr of [['pwd', 'mfa'], ['otp'], ['hwk', 'pwd'], 'mfa']) {
    t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol', { amr }) })).statusCode, 200, `edit with amr ${JSON.stringify(amr)}`)
  }
  t.equal((await app.inject({ method: 'DELETE', url: '/d/d1', headers: as('carol', { amr: ['mfa'] }) })).statusCode, 200)
  for (const amr of [{ mfa: true }, ['MFA'], [['mfa']], 'pwd mfa', 1, null]) {
    t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol', { amr }) })).statusCode, 401, `amr ${JSON.stringify(amr)} is no second factor`)
  }
  t.equal((await app.inject({ url: '/me', headers: as('carol') })).statusCode, 200, "'authenticated' routes need no second factor")
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'public routes neither')
})

t.test('a token issued before the option is judged at once: the same token is 200 before, 401 after', async (t) => {
  const before = await build(t)
  const after = await build(t, { stepUp: {} })
  const headers = { authorization: `Bearer ${before.token({ sub: 'carol', amr: ['pwd'] })}` }
  for (const { app } of [before, after]) {
    app.put('/d/:id', { config: { permission: { resource: 'document', privilege: 'edit' } } }, async () => 'edited')
    await app.ready()
    await app.permissions.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'edit' })
  }
  t.equal((await before.app.inject({ method: 'PUT', url: '/d/d1', headers })).statusCode, 200, 'without the option')
  const res = await after.app.inject({ method: 'PUT', url: '/d/d1', headers })
  t.equal(res.statusCode, 401, 'with it, the very same token')
  t.equal(res.json().code, 'FST_DEFAULT_DENY_STEP_UP_REQUIRED')
})

t.test('step-up is checked before the grants: the answer depends on the route and the token only', async (t) => {
  const { app, as } = await setup(t)
  const res = await app.inject({ method: 'PUT', url: '/d/d1', headers: as('dave') })
  t.equal(res.statusCode, 401, 'no grant and no second factor: 401, not 403')
  t.equal(res.json().code, 'FST_DEFAULT_DENY_STEP_UP_REQUIRED')
  t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('dave', { amr: ['mfa'] }) })).statusCode, 403, 'with the second factor, the grants decide')
  t.equal((await app.inject({ method: 'PUT', url: '/d/nope', headers: as('carol') })).statusCode, 401, 'an id with no grants at all is the same')
})

t.test('with hideForbidden, existing and missing ids answer alike without the second factor', async (t) => {
  const { app, as } = await setup(t, { hideForbidden: true })
  for (const id of ['d1', 'missing']) {
    t.equal((await app.inject({ method: 'DELETE', url: `/d/${id}`, headers: as('dave') })).statusCode, 401, `${id} without the second factor`)
    t.equal((await app.inject({ method: 'DELETE', url: `/d/${id}`, headers: as('dave', { amr: ['mfa'] }) })).statusCode, 404, `${id} with it`)
  }
})

t.test('a refusal for step-up costs no query', async (t) => {
  const { app, as, db, schema } = await setup(t)
  await sql`drop table ${sql.id(schema, 'default_deny_grant')} cascade`.execute(db)
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 503, 'a check now fails closed')
  t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol') })).statusCode, 401, 'refused before any check')
  t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol', { amr: ['mfa'] }) })).statusCode, 503, 'with the factor, the check runs')
})

t.test('superusers need the second factor too', async (t) => {
  const { app, as } = await setup(t)
  t.equal((await app.inject({ url: '/d/other', headers: as('root', { su: true }) })).statusCode, 200, 'a superuser reads without it')
  const res = await app.inject({ method: 'DELETE', url: '/d/other', headers: as('root', { su: true }) })
  t.equal(res.statusCode, 401, 'but deletes only with it')
  t.equal(res.headers['www-authenticate'], FACTOR_CHALLENGE)
  t.equal((await app.inject({ method: 'DELETE', url: '/d/other', headers: as('root', { su: true, amr: ['hwk'] }) })).statusCode, 200)
})

t.test('anonymous requests on a covered route: 401 with a challenge carrying no error code', async (t) => {
  const { app } = await setup(t, { anonymousPrivileges: ['read', 'edit'] })
  await app.permissions.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: 'd1', privilege: 'edit' })
  const res = await app.inject({ method: 'PUT', url: '/d/d1' })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_STEP_UP_REQUIRED')
  t.equal(res.headers['www-authenticate'], 'Bearer')
  t.equal((await app.inject({ url: '/d/d1' })).statusCode, 403, 'reads are decided by the grants as before')
})

t.test('implies: what counts is the privilege the route requires, not the one held', async (t) => {
  const reads = await setup(t, { implies: { edit: ['read'] }, stepUp: { privileges: ['edit'] } })
  await reads.app.permissions.grant({ grantee: { kind: 'user', id: 'erin' }, resource: 'document', id: 'd1', privilege: 'edit' })
  t.equal((await reads.app.inject({ url: '/d/d1', headers: reads.as('erin') })).statusCode, 200, 'a read through edit needs nothing')
  t.equal((await reads.app.inject({ method: 'PUT', url: '/d/d1', headers: reads.as('erin') })).statusCode, 401, 'an edit does')

  const deletes = await setup(t, { implies: { delete: ['edit'] }, stepUp: { privileges: ['delete'] } })
  await deletes.app.permissions.grant({ grantee: { kind: 'user', id: 'frank' }, resource: 'document', id: 'd1', privilege: 'delete' })
  t.equal((await deletes.app.inject({ method: 'PUT', url: '/d/d1', headers: deletes.as('frank') })).statusCode, 200, 'edit is not covered, held through delete or not')
  t.equal((await deletes.app.inject({ method: 'DELETE', url: '/d/d1', headers: deletes.as('frank') })).statusCode, 401, 'delete is')
})

t.test('chosen privileges: reads can be covered too', async (t) => {
  const { app, as } = await setup(t, { stepUp: { privileges: ['read'] } })
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 401)
  t.equal((await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol') })).statusCode, 200, 'edit is no longer covered')
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol', { amr: ['otp'] }) })).statusCode, 200)
})

t.test('endpoint rules decided in onRequest refuse first: a level cap or a block is a 403, not a step-up prompt', async (t) => {
  const { app, as } = await setup(t, {
    rules: { paths: { 'd/': 'readers', 'd/blocked': 'nobody' }, groups: { readers: { type: 'open', demote: 'reader' }, nobody: { type: 'block' } } }
  })
  const capped = await app.inject({ method: 'PUT', url: '/d/d1', headers: as('carol') })
  t.equal(capped.statusCode, 403, 'a demoted reader is refused the edit before step-up is asked')
  t.equal(capped.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
  const blocked = await app.inject({ method: 'PUT', url: '/d/blocked', headers: as('carol') })
  t.equal(blocked.json().code, 'FST_DEFAULT_DENY_RULE_DENIED')
  t.equal((await app.inject({ url: '/d/d1', headers: as('carol') })).statusCode, 200, 'reads pass the rules and need no factor')
})
