// A stored group's members through the grant HTTP API: who may list and
// change them (whoever may manage the group's resource), what each answer
// says, the rows and audit entries written, and the effect on the next
// request of a member.
import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

async function setup (t: Parameters<typeof build>[0], options = {}) {
  const built = await build(t, { superuserClaim: 'su', ...options })
  let ran = 0
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await built.app.ready()
  // olga owns the group "team", which may read d1.
  await built.app.permissions.setOwner({ resource: 'group', id: 'team', owner: 'olga' })
  await built.app.permissions.grant({ grantee: { kind: 'group', id: 'team' }, resource: 'document', id: 'd1', privilege: 'read' })
  const rows = async () => (await built.db.withSchema(built.schema).selectFrom('default_deny_membership')
    .select(['group_id', 'member_kind', 'member_id', 'added_by']).orderBy('member_id').execute())
  return { ...built, rows, ran: () => ran }
}

const bob = '/permissions/groups/team/members/user/bob'

t.test('the group manager adds a member (201, then 200), and the member reads at once', async (t) => {
  const { app, as, rows, ran } = await setup(t)
  t.equal((await app.inject({ url: '/d/d1', headers: as('bob') })).statusCode, 403)
  const first = await app.inject({ method: 'PUT', url: `${bob}?reason=onboarding`, headers: as('olga') })
  t.equal(first.statusCode, 201)
  t.same(first.json(), { group: 'team', member: { kind: 'user', id: 'bob' }, before: [], after: ['member'] })
  const again = await app.inject({ method: 'PUT', url: bob, headers: as('olga') })
  t.equal(again.statusCode, 200)
  t.same(again.json(), { group: 'team', member: { kind: 'user', id: 'bob' }, before: ['member'], after: ['member'] })
  t.same(await rows(), [{ group_id: 'team', member_kind: 'user', member_id: 'bob', added_by: 'olga' }])
  t.equal((await app.inject({ url: '/d/d1', headers: as('bob') })).statusCode, 200, 'the next request counts the membership')
  t.equal(ran(), 1)

  const list = await app.inject({ url: '/permissions/groups/team/members', headers: as('olga') })
  t.equal(list.statusCode, 200)
  t.match(list.json(), { group: 'team', members: [{ kind: 'user', id: 'bob', addedBy: 'olga' }] })
  t.ok(Number.isFinite(Date.parse(list.json().members[0].addedAt)))

  const [entry] = await app.permissions.audit({ resource: { resource: 'group', id: 'team' }, limit: 1 })
  t.match(entry, { action: 'member', actor: 'olga', reason: 'onboarding', grantee: { kind: 'user', id: 'bob' }, before: [], after: ['member'] })
  t.type(entry?.requestId, 'string')

  const removed = await app.inject({ method: 'DELETE', url: bob, headers: as('olga') })
  t.equal(removed.statusCode, 200)
  t.same(removed.json(), { group: 'team', member: { kind: 'user', id: 'bob' }, before: ['member'], after: [] })
  t.same(await rows(), [])
  t.equal((await app.inject({ url: '/d/d1', headers: as('bob') })).statusCode, 403, 'removed: denied on the next request')
  t.equal(ran(), 1, 'handler not run')
  t.same((await app.inject({ method: 'DELETE', url: bob, headers: as('olga') })).json().before, [], 'removing again changes nothing')
})

t.test('a member group: its members hold what the group holds', async (t) => {
  const { app, as } = await setup(t)
  t.equal((await app.inject({ method: 'PUT', url: '/permissions/groups/team/members/group/interns', headers: as('olga') })).statusCode, 201)
  t.equal((await app.inject({ url: '/d/d1', headers: as('ivy', { groups: ['interns'] }) })).statusCode, 200, 'token group interns → team')
})

t.test('managing a group is a grant like any other: manage on { group, team }', async (t) => {
  const { app, as, rows } = await setup(t)
  t.equal((await app.inject({ method: 'PUT', url: bob, headers: as('mia') })).statusCode, 403, 'mia manages nothing')
  await app.permissions.grant({ grantee: { kind: 'group', id: 'leads' }, resource: 'group', id: 'team', privilege: 'manage' })
  t.equal((await app.inject({ method: 'PUT', url: bob, headers: as('mia', { groups: ['leads'] }) })).statusCode, 201, 'a manager through a token group')
  // And through a stored membership, which the change locks while it decides.
  await app.permissions.addMember({ group: 'leads', member: { kind: 'user', id: 'nina' } })
  t.equal((await app.inject({ method: 'DELETE', url: bob, headers: as('nina') })).statusCode, 200, 'a manager through a stored group')
  await app.permissions.removeMember({ group: 'leads', member: { kind: 'user', id: 'nina' } })
  t.equal((await app.inject({ method: 'PUT', url: bob, headers: as('nina') })).statusCode, 403, 'no longer a manager')
  t.same(await rows(), [])
  t.equal((await app.inject({ method: 'PUT', url: bob, headers: as('root', { su: true }) })).statusCode, 201, 'a superuser may')
})

t.test('refusals write nothing and say little', async (t) => {
  // Ids up to 50 characters, so that a longer one still reaches the route (Fastify's maxParamLength is 100).
  const { app, as, rows } = await setup(t, { maxIdLength: 50 })
  const cases: Array<[string, string, Record<string, string>, number, string]> = [
    ['PUT', bob, {}, 401, 'FST_DEFAULT_DENY_UNAUTHORIZED'],
    ['PUT', bob, as('carol'), 403, 'FST_DEFAULT_DENY_FORBIDDEN'],
    ['GET', '/permissions/groups/team/members', as('carol'), 403, 'FST_DEFAULT_DENY_FORBIDDEN'],
    ['DELETE', bob, as('carol'), 403, 'FST_DEFAULT_DENY_FORBIDDEN'],
    ['PUT', '/permissions/groups/team/members/anonymous/x', as('olga'), 400, 'FST_DEFAULT_DENY_INVALID_REQUEST'],
    ['PUT', '/permissions/groups/team/members/group/team', as('olga'), 400, 'FST_DEFAULT_DENY_INVALID_REQUEST'],
    ['PUT', `/permissions/groups/team/members/user/${'x'.repeat(51)}`, as('olga'), 400, 'FST_DEFAULT_DENY_INVALID_REQUEST'],
    ['PUT', `${bob}?reason=${'r'.repeat(501)}`, as('olga'), 400, 'FST_DEFAULT_DENY_INVALID_REQUEST'],
    ['PUT', `${bob}?other=1`, as('olga'), 400, 'FST_DEFAULT_DENY_INVALID_REQUEST'],
    ['PUT', '/permissions/groups/team/members/user/a%00b', as('olga'), 400, 'FST_DEFAULT_DENY_INVALID_REQUEST'],
    ['PUT', '/permissions/groups/te%00am/members/user/bob', as('olga'), 404, 'FST_DEFAULT_DENY_NOT_FOUND']
  ]
  for (const [method, url, headers, status, code] of cases) {
    const res = await app.inject({ method: method as 'PUT', url, headers })
    t.equal(res.statusCode, status, `${method} ${url.slice(0, 60)}`)
    t.equal(res.json().code, code)
    t.notMatch(res.body, /bob|team|carol|olga/, 'no ids in the answer')
  }
  t.same(await rows(), [])
  t.same(await app.permissions.audit({ resource: { resource: 'group', id: 'team' } }).then((e) => e.filter((x) => x.action === 'member')), [])
})

t.test('hideForbidden answers a non-manager 404; groupResource renames the group type', async (t) => {
  const { app, as } = await setup(t, { hideForbidden: true, groupResource: 'team' })
  t.equal((await app.inject({ method: 'PUT', url: bob, headers: as('carol') })).statusCode, 404)
  // olga owns { group, team }, not { team, team }: under this option she manages nothing here.
  t.equal((await app.inject({ method: 'PUT', url: bob, headers: as('olga') })).statusCode, 404)
  await app.permissions.setOwner({ resource: 'team', id: 'team', owner: 'olga' })
  t.equal((await app.inject({ method: 'PUT', url: bob, headers: as('olga') })).statusCode, 201)
})

t.test('the route check reads memberships of the plugin schema only', async (t) => {
  const { app, as, db, schema } = await setup(t)
  // A table of the same name elsewhere must not count.
  await sql`create table if not exists public.default_deny_membership_decoy (x int)`.execute(db)
  t.teardown(async () => { await sql`drop table if exists public.default_deny_membership_decoy`.execute(db) })
  await db.withSchema(schema).insertInto('default_deny_membership').values({ group_id: 'team', member_kind: 'user', member_id: 'zoe' }).execute()
  t.equal((await app.inject({ url: '/d/d1', headers: as('zoe') })).statusCode, 200, 'a row written by plain SQL counts too')
})
