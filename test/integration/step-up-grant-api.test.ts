// Step-up in the grant-management API: with `manage` covered, every changing
// route (grants, owner, members) refuses a token without its second factor
// with the 401 challenge, before the body is read, and writes nothing; the
// reading routes stay reads.
import t from 'tap'
import { sql } from 'kysely'
import { build, snapshot } from '../helper.js'

const FACTOR_CHALLENGE = 'Bearer error="insufficient_user_authentication", error_description="A second authentication factor is required"'
const carol = { kind: 'user', id: 'carol' }

async function setup (t: Parameters<typeof build>[0], stepUp: Record<string, unknown> = {}) {
  const built = await build(t, { superuserClaim: 'su', stepUp })
  await built.app.ready()
  const p = built.app.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  await p.replace({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privileges: ['read', 'edit'] })
  await p.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: 'd1', privilege: 'read' })
  await p.setOwner({ resource: 'group', id: 'team', owner: 'olga' })
  await p.addMember({ group: 'team', member: { kind: 'user', id: 'bob' } })
  const state = async () => {
    const memberships = await built.db.withSchema(built.schema).selectFrom('default_deny_membership')
      .select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
    return { ...await snapshot(built.db, built.schema), memberships: memberships.n }
  }
  return { ...built, state }
}

const changes: Array<{ method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown }> = [
  { method: 'POST', url: '/permissions/document/d1/grants', payload: { grantee: carol, privilege: 'delete' } },
  { method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit' },
  { method: 'DELETE', url: '/permissions/document/d1/grants/anonymous/read' },
  { method: 'PUT', url: '/permissions/document/d1/grantees/user/carol', payload: { privileges: ['read'] } },
  { method: 'PUT', url: '/permissions/document/d1/grantees/anonymous', payload: { privileges: [] } },
  { method: 'DELETE', url: '/permissions/document/d1/grantees/user/carol' },
  { method: 'DELETE', url: '/permissions/document/d1/grantees/anonymous' },
  { method: 'PUT', url: '/permissions/document/d1/grants', payload: { grants: [] } },
  { method: 'POST', url: '/permissions/bulk', payload: { grant: [{ resource: 'document', id: 'd1', grantee: carol, privilege: 'delete' }] } },
  { method: 'PUT', url: '/permissions/document/d1/owner', payload: { owner: 'carol' } },
  { method: 'PUT', url: '/permissions/groups/team/members/user/dan' },
  { method: 'DELETE', url: '/permissions/groups/team/members/user/bob' }
]

t.test('every change without the second factor: 401 with the challenge, nothing written', async (t) => {
  const { app, as, state } = await setup(t)
  const before = await state()
  for (const who of [as('olga'), as('olga', { amr: ['pwd'] }), as('root', { su: true })]) {
    for (const change of changes) {
      const res = await app.inject({ ...change, headers: who } as never)
      const name = `${change.method} ${change.url}`
      t.equal(res.statusCode, 401, name)
      t.equal(res.json().code, 'FST_DEFAULT_DENY_STEP_UP_REQUIRED', name)
      t.equal(res.headers['www-authenticate'], FACTOR_CHALLENGE, name)
    }
  }
  t.same(await state(), before, 'no grant, owner, membership or audit row was written')
})

t.test('with the second factor the same changes go through', async (t) => {
  const { app, as, state } = await setup(t)
  const before = await state()
  const olga = as('olga', { amr: ['pwd', 'mfa'] })
  const add = await app.inject({ ...changes[0], headers: olga } as never)
  t.equal(add.statusCode, 201)
  const undated = (privileges: string[]) => privileges.map((privilege) => ({ privilege, startsAt: null, expiresAt: null }))
  t.same(add.json(), {
    grantee: carol, before: ['edit', 'read'], after: ['delete', 'edit', 'read'], changed: ['delete'],
    schedule: { before: undated(['edit', 'read']), after: undated(['delete', 'edit', 'read']) }
  })
  t.equal((await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/user/dan', headers: olga })).statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/permissions/bulk', headers: as('root', { su: true, amr: ['otp'] }), payload: { revoke: [{ resource: 'document', id: 'd1', grantee: carol, privilege: 'delete' }] } })).statusCode, 200, 'a superuser with it')
  const after = await state()
  t.equal(after.memberships, before.memberships + 1)
  t.equal(after.audit, before.audit + 3)
})

t.test('step-up comes first: a malformed body or a non-manager without the factor is 401 too', async (t) => {
  const { app, as, state } = await setup(t)
  const before = await state()
  const bad = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga'), payload: { grantee: carol, privilege: 'fly' } })
  t.equal(bad.statusCode, 401, 'the body is not even parsed')
  const stranger = await app.inject({ ...changes[0], headers: as('mallory') } as never)
  t.equal(stranger.statusCode, 401, 'the answer does not tell a stranger from a manager')
  t.equal((await app.inject({ ...changes[0], headers: as('mallory', { amr: ['mfa'] }) } as never)).statusCode, 403, 'with the factor, the manager check decides')
  t.equal((await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: as('olga', { amr: ['mfa'] }), payload: { grantee: carol, privilege: 'fly' } })).statusCode, 400)
  t.same(await state(), before)
})

t.test('reading grants, explain, the audit trail and a group\'s members need no second factor', async (t) => {
  const { app, as } = await setup(t)
  for (const url of [
    '/permissions/document/d1/grants',
    '/permissions/document/d1/explain?kind=user&principal=carol',
    '/permissions/document/d1/audit',
    '/permissions/groups/team/members'
  ]) {
    t.equal((await app.inject({ url, headers: as('olga') })).statusCode, 200, url)
  }
  for (const url of ['/permissions/audit', '/permissions/audit/verify']) {
    t.equal((await app.inject({ url, headers: as('root', { su: true }) })).statusCode, 200, `${url} for a superuser`)
  }
})

t.test('with manage not covered the grant API needs no second factor', async (t) => {
  const { app, as } = await setup(t, { privileges: ['edit', 'delete'] })
  t.equal((await app.inject({ ...changes[0], headers: as('olga') } as never)).statusCode, 201)
  t.equal((await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/user/dan', headers: as('olga') })).statusCode, 201)
})
