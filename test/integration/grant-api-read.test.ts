// Listing grants, explain and audit reads: managers only; no BOLA.
import t from 'tap'
import { build, expireGrantsOf } from '../helper.js'

async function setup (t: Parameters<typeof build>[0], options = {}) {
  const built = await build(t, { superuserClaim: 'su', ...options })
  await built.app.ready()
  const p = built.app.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  await p.grant({ grantee: { kind: 'user', id: 'mary' }, resource: 'document', id: 'd1', privilege: 'manage' })
  await p.grant({ grantee: { kind: 'group', id: 'editors' }, resource: 'document', id: 'd1', privilege: 'edit' })
  await p.grant({ grantee: { kind: 'user', id: 'bob' }, resource: 'document', id: 'd1', privilege: 'read', expiresAt: new Date(Date.now() + 60_000) })
  await expireGrantsOf(built.db, built.schema, 'bob')
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: null, privilege: 'read' })
  await p.setOwner({ resource: 'document', id: 'd2', owner: 'zed' })
  return built
}

t.test('the owner, a manager and a superuser can list; the list shows sources', async (t) => {
  const { app, as } = await setup(t)
  for (const headers of [as('olga'), as('mary'), as('root', { su: true })]) {
    const res = await app.inject({ url: '/permissions/document/d1/grants', headers })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.equal(body.owner, 'olga')
    const rows = body.grants.map((g: any) => `${g.source}:${g.grantee.kind}:${g.grantee.id ?? ''}:${g.privilege}`)
    t.same(rows, [
      'owner:user:olga:read', 'owner:user:olga:edit', 'owner:user:olga:delete', 'owner:user:olga:manage',
      'explicit:group:editors:edit', 'explicit:user:mary:manage',
      'type:group:staff:read'
    ], 'expired grants are not listed')
    t.notOk(JSON.stringify(body).includes('"seq"'), 'no internal ids')
  }
})

t.test('anyone else gets 403 and learns nothing; anonymous gets 401', async (t) => {
  const { app, as } = await setup(t)
  const editor = as('eve', { groups: ['editors'] })
  for (const url of ['/permissions/document/d1/grants', '/permissions/document/d1/audit', '/permissions/document/d1/explain?kind=user&principal=olga']) {
    const res = await app.inject({ url, headers: editor })
    t.equal(res.statusCode, 403, `${url}: editors are not managers`)
    t.same(res.json(), { statusCode: 403, code: 'FST_DEFAULT_DENY_FORBIDDEN', error: 'Forbidden', message: 'Forbidden' })
    t.notMatch(res.body, /olga|mary|editors/)
    t.equal((await app.inject({ url })).statusCode, 401, `${url}: anonymous`)
  }
  const other = await app.inject({ url: '/permissions/document/d2/grants', headers: as('olga') })
  t.equal(other.statusCode, 403, 'the owner of d1 cannot read the grants of d2')
  t.equal((await app.inject({ url: '/permissions/audit', headers: as('olga') })).statusCode, 403, 'the global audit is for superusers')
  t.equal((await app.inject({ url: '/permissions/audit/verify', headers: as('olga') })).statusCode, 403)
})

t.test('hideForbidden: a resource you cannot manage looks like a missing one', async (t) => {
  const { app, as } = await setup(t, { hideForbidden: true })
  const forbidden = await app.inject({ url: '/permissions/document/d2/grants', headers: as('olga') })
  const missing = await app.inject({ url: '/permissions/document/nope/grants', headers: as('olga') })
  t.equal(forbidden.statusCode, 404)
  t.equal(forbidden.body, missing.body)
})

t.test('explain: what a principal can do and why, and what is missing', async (t) => {
  const { app, as } = await setup(t)
  const explain = async (query: string) =>
    (await app.inject({ url: `/permissions/document/d1/explain?${query}`, headers: as('olga') })).json()

  const eve = await explain('kind=user&principal=eve&groups=editors&privilege=delete')
  t.equal(eve.decision, 'deny')
  t.equal(eve.summary, 'denied: group editors holds edit; the request needs delete')
  t.same(eve.privileges.map((p: any) => p.privilege), ['edit'])

  const staff = await explain('kind=user&principal=sam&groups=staff&groups=editors&privilege=read')
  t.equal(staff.decision, 'allow')
  t.match(staff.summary, /group staff holds read on every resource of the type/)

  const owner = await explain('kind=user&principal=olga&privilege=delete')
  t.equal(owner.decision, 'allow')
  t.match(owner.summary, /owns the resource/)

  const nobody = await explain('kind=anonymous&privilege=read')
  t.equal(nobody.summary, 'denied: nothing is granted on this resource; the request needs read')

  const all = await explain('kind=user&principal=mary')
  t.equal(all.summary, 'can manage')
  t.notOk('decision' in all)

  for (const query of ['kind=robot&principal=x', 'kind=user', 'kind=anonymous&principal=x', 'kind=user&principal=x&privilege=write', 'kind=user&principal=x&extra=1']) {
    const res = await app.inject({ url: `/permissions/document/d1/explain?${query}`, headers: as('olga') })
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_INVALID_REQUEST')
  }
})

t.test('the service explain matches the route decision', async (t) => {
  const { app } = await setup(t)
  const principal = { kind: 'user', id: 'eve', groups: ['editors'], superuser: false, claims: null } as const
  const explanation = await app.permissions.explain(principal, { resource: 'document', id: 'd1', privilege: 'edit' })
  t.equal(explanation.decision, 'allow')
  t.equal(await app.permissions.check(principal, { resource: 'document', id: 'd1', privilege: 'edit' }), true)
  const denied = await app.permissions.explain(principal, { resource: 'document', id: 'd1', privilege: 'read' })
  t.equal(denied.decision, 'deny')
  t.equal(await app.permissions.check(principal, { resource: 'document', id: 'd1', privilege: 'read' }), false)
})
