// Least privilege for the grant API itself: no one hands out more than they hold.
import t from 'tap'
import { build } from '../helper.js'

async function setup (t: Parameters<typeof build>[0], options = {}) {
  const built = await build(t, { superuserClaim: 'su', ...options })
  await built.app.ready()
  const p = built.app.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  // mary manages and reads; ed manages and edits; rita only reads.
  await p.replace({ grantee: { kind: 'user', id: 'mary' }, resource: 'document', id: 'd1', privileges: ['manage', 'read'] })
  await p.replace({ grantee: { kind: 'user', id: 'ed' }, resource: 'document', id: 'd1', privileges: ['manage', 'edit'] })
  await p.grant({ grantee: { kind: 'user', id: 'rita' }, resource: 'document', id: 'd1', privilege: 'read' })
  return built
}

const add = (app: any, headers: object, grantee: object, privilege: string) =>
  app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers, payload: { grantee, privilege } })
const carol = { kind: 'user', id: 'carol' }

t.test('a reader who is not a manager cannot grant anything', async (t) => {
  const { app, as } = await setup(t)
  const res = await add(app, as('rita'), carol, 'read')
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_FORBIDDEN')
  t.same((await app.permissions.listGrants({ resource: 'document', id: 'd1' })).filter((g) => (g.grantee as any).id === 'carol'), [])
})

t.test('a manager grants only what it holds', async (t) => {
  const { app, as } = await setup(t)
  t.equal((await add(app, as('mary'), carol, 'read')).statusCode, 201, 'mary holds read')
  const edit = await add(app, as('mary'), carol, 'edit')
  t.equal(edit.statusCode, 403, 'read holder grants edit')
  t.equal(edit.json().code, 'FST_DEFAULT_DENY_ESCALATION')
  const del = await add(app, as('ed'), carol, 'delete')
  t.equal(del.statusCode, 403, 'edit holder grants delete')
  t.equal((await add(app, as('ed'), carol, 'edit')).statusCode, 201)
  const manage = await add(app, as('mary'), carol, 'manage')
  t.equal(manage.statusCode, 403, 'manager grants manage without delegation')
  t.equal(manage.json().code, 'FST_DEFAULT_DENY_ESCALATION')
  const replace = await app.inject({
    method: 'PUT', url: '/permissions/document/d1/grantees/user/carol', headers: as('mary'), payload: { privileges: ['read', 'delete'] }
  })
  t.equal(replace.statusCode, 403, 'escalation through replace')
  const grants = (await app.permissions.listGrants({ resource: 'document', id: 'd1' })).filter((g) => (g.grantee as any).id === 'carol')
  t.same(grants.map((g) => g.privilege).sort(), ['edit', 'read'], 'nothing from the refused requests was written')
})

t.test('a manager cannot take away what it could not give', async (t) => {
  const { app, as } = await setup(t)
  const res = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/ed/edit', headers: as('mary') })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_ESCALATION')
  const demote = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/ed/manage', headers: as('mary') })
  t.equal(demote.statusCode, 403, 'one manager cannot remove another without delegation')
})

t.test('with allowManageDelegation a manager may pass manage on', async (t) => {
  const { app, as } = await setup(t, { allowManageDelegation: true })
  t.equal((await add(app, as('mary'), carol, 'manage')).statusCode, 201)
  t.equal((await add(app, as('mary'), carol, 'edit')).statusCode, 403, 'still not what mary does not hold')
})

t.test('owner and superuser may grant anything', async (t) => {
  const { app, as } = await setup(t)
  for (const privilege of ['read', 'edit', 'delete', 'manage']) {
    t.equal((await add(app, as('olga'), carol, privilege)).statusCode, 201, `owner grants ${privilege}`)
    t.equal((await add(app, as('root', { su: true }), { kind: 'group', id: 'g' }, privilege)).statusCode, 201, `superuser grants ${privilege}`)
  }
})

t.test('the actor comes from the token, never from the body', async (t) => {
  const { app, as } = await setup(t)
  const res = await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: as('rita'), payload: { grantee: carol, privilege: 'read', actor: 'olga' }
  })
  t.equal(res.statusCode, 400, 'an actor field is an unknown property')
  const anon = await app.inject({ method: 'POST', url: '/permissions/document/d1/grants', payload: { grantee: carol, privilege: 'read' } })
  t.equal(anon.statusCode, 401)
})
