// `manage` reached through `implies` is managing: the same holders that may
// see and change a resource's grants are the ones the last-manager guard
// counts, the ones delegation rules protect, and the ones anonymous can never be.
// No test sets an owner, so only grants (and superusers) make managers here.
import t from 'tap'
import { build, expireGrantsOf, readyWith, type Built } from '../helper.js'

const EDIT_MANAGES = { implies: { edit: ['manage'] } }
const GRANTS = '/permissions/document/d1/grants'

/** The explicit grants on document d1, straight from the table. */
async function rows ({ db, schema }: Pick<Built, 'db' | 'schema'>) {
  const found = await db.withSchema(schema).selectFrom('default_deny_grant')
    .select(['principal_kind', 'principal_id', 'privilege'])
    .where('resource_type', '=', 'document')
    .where('resource_id', '=', 'd1')
    .orderBy('principal_id').orderBy('privilege')
    .execute()
  return found.map((row) => `${row.principal_kind}:${row.principal_id}:${row.privilege}`)
}

async function grant (app: Built['app'], user: string, privilege: 'edit' | 'manage' | 'read', extra: { id?: string | null, expiresAt?: Date } = {}) {
  await app.permissions.grant({ grantee: { kind: 'user', id: user }, resource: 'document', id: 'd1', privilege, ...extra })
}

t.test('an edit holder manages, so it cannot revoke its own edit when no one else would manage', async (t) => {
  // Delegation on, so that the only thing that can refuse the revoke is the guard.
  const built = await build(t, { ...EDIT_MANAGES, allowManageDelegation: true })
  const { app, as } = built
  await app.ready()
  await grant(app, 'ed', 'edit')

  t.equal((await app.inject({ url: GRANTS, headers: as('ed') })).statusCode, 200, 'edit (→ manage) lets ed list the grants')
  const res = await app.inject({ method: 'DELETE', url: `${GRANTS}/user/ed/edit`, headers: as('ed') })
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_LAST_MANAGER')
  t.same(await rows(built), ['user:ed:edit'], 'the grant is still there')
  t.equal((await app.inject({ url: GRANTS, headers: as('ed') })).statusCode, 200, 'and ed still manages')
})

t.test('without delegation the self-revoke of the last edit is refused as well', async (t) => {
  const built = await build(t, EDIT_MANAGES)
  const { app, as } = built
  await app.ready()
  await grant(app, 'ed', 'edit')

  const res = await app.inject({ method: 'DELETE', url: `${GRANTS}/user/ed/edit`, headers: as('ed') })
  // Either refusal keeps a manager: the guard (409), or the delegation rule
  // now that edit confers manage (403). Accepting it is the defect.
  t.ok([403, 409].includes(res.statusCode), `refused (${res.statusCode})`)
  t.ok(['FST_DEFAULT_DENY_LAST_MANAGER', 'FST_DEFAULT_DENY_ESCALATION'].includes(res.json().code), res.json().code)
  t.same(await rows(built), ['user:ed:edit'], 'the grant is still there')
})

t.test('a superuser cannot remove the last edit holder either', async (t) => {
  const built = await build(t, { ...EDIT_MANAGES, superuserClaim: 'su' })
  const { app, as } = built
  await app.ready()
  await grant(app, 'ed', 'edit')
  const res = await app.inject({ method: 'DELETE', url: `${GRANTS}/user/ed/edit`, headers: as('root', { su: true }) })
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_LAST_MANAGER')
  t.same(await rows(built), ['user:ed:edit'])
})

t.test('an expired edit holder does not count as a remaining manager', async (t) => {
  const built = await build(t, { ...EDIT_MANAGES, allowManageDelegation: true })
  const { app, as } = built
  await app.ready()
  await grant(app, 'ed', 'edit')
  await grant(app, 'old', 'edit', { expiresAt: new Date(Date.now() + 60_000) })
  await expireGrantsOf(built.db, built.schema, 'old')
  const res = await app.inject({ method: 'DELETE', url: `${GRANTS}/user/ed/edit`, headers: as('ed') })
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'FST_DEFAULT_DENY_LAST_MANAGER')
  t.same(await rows(built), ['user:ed:edit', 'user:old:edit'])
})

t.test('a type-level edit holder still manages, so the last explicit one may go', async (t) => {
  const built = await build(t, { ...EDIT_MANAGES, allowManageDelegation: true })
  const { app, as } = built
  await app.ready()
  await grant(app, 'ed', 'edit')
  await grant(app, 'everywhere', 'edit', { id: null })
  t.equal((await app.inject({ url: GRANTS, headers: as('everywhere') })).statusCode, 200, 'a type-level edit holder manages d1')
  const res = await app.inject({ method: 'DELETE', url: `${GRANTS}/user/ed/edit`, headers: as('ed') })
  t.equal(res.statusCode, 200)
  t.same(await rows(built), [], 'the d1 grant is gone')
})

t.test('the only explicit manage holder may be removed while an edit holder still manages', async (t) => {
  t.test('by that edit holder, with delegation allowed', async (t) => {
    const built = await build(t, { ...EDIT_MANAGES, allowManageDelegation: true })
    const { app, as } = built
    await app.ready()
    await grant(app, 'mgr', 'manage')
    await grant(app, 'ed', 'edit')
    const res = await app.inject({ method: 'DELETE', url: `${GRANTS}/user/mgr/manage`, headers: as('ed') })
    t.equal(res.statusCode, 200)
    t.same(res.json(), {
      grantee: { kind: 'user', id: 'mgr' }, before: ['manage'], after: [], changed: ['manage'],
      schedule: { before: [{ privilege: 'manage', startsAt: null, expiresAt: null }], after: [] }
    })
    t.same(await rows(built), ['user:ed:edit'], 'the manage grant is gone')
  })

  t.test('by a superuser, without delegation', async (t) => {
    const built = await build(t, { ...EDIT_MANAGES, superuserClaim: 'su' })
    const { app, as } = built
    await app.ready()
    await grant(app, 'mgr', 'manage')
    await grant(app, 'ed', 'edit')
    const res = await app.inject({ method: 'DELETE', url: `${GRANTS}/user/mgr/manage`, headers: as('root', { su: true }) })
    t.equal(res.statusCode, 200)
    t.same(await rows(built), ['user:ed:edit'], 'the manage grant is gone')
  })
})

t.test('granting a privilege that implies manage is delegating manage', async (t) => {
  t.test('refused without allowManageDelegation', async (t) => {
    const built = await build(t, EDIT_MANAGES)
    const { app, as } = built
    await app.ready()
    await grant(app, 'ed', 'edit')
    const res = await app.inject({
      method: 'POST', url: GRANTS, headers: as('ed'), payload: { grantee: { kind: 'user', id: 'x' }, privilege: 'edit' }
    })
    t.equal(res.statusCode, 403)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_ESCALATION')
    t.same(await rows(built), ['user:ed:edit'], 'nothing was written')
    t.equal((await app.inject({ url: GRANTS, headers: as('x') })).statusCode, 403, 'x does not manage')
  })

  t.test('refused through a chain of implies too', async (t) => {
    const built = await build(t, { implies: { delete: ['edit'], edit: ['manage'] } })
    const { app, as } = built
    await app.ready()
    await app.permissions.grant({ grantee: { kind: 'user', id: 'boss' }, resource: 'document', id: 'd1', privilege: 'delete' })
    const res = await app.inject({
      method: 'POST', url: GRANTS, headers: as('boss'), payload: { grantee: { kind: 'group', id: 'staff' }, privilege: 'delete' }
    })
    t.equal(res.statusCode, 403)
    t.equal(res.json().code, 'FST_DEFAULT_DENY_ESCALATION')
    t.same(await rows(built), ['user:boss:delete'], 'nothing was written')
  })

  t.test('allowed with allowManageDelegation', async (t) => {
    const built = await build(t, { ...EDIT_MANAGES, allowManageDelegation: true })
    const { app, as } = built
    await app.ready()
    await grant(app, 'ed', 'edit')
    const res = await app.inject({
      method: 'POST', url: GRANTS, headers: as('ed'), payload: { grantee: { kind: 'user', id: 'x' }, privilege: 'edit' }
    })
    t.equal(res.statusCode, 201)
    t.same(await rows(built), ['user:ed:edit', 'user:x:edit'])
  })

  t.test('a privilege that does not confer manage is still only limited by what the manager holds', async (t) => {
    const built = await build(t, { implies: { edit: ['manage', 'read'] } })
    const { app, as } = built
    await app.ready()
    await grant(app, 'ed', 'edit')
    const res = await app.inject({
      method: 'POST', url: GRANTS, headers: as('ed'), payload: { grantee: { kind: 'user', id: 'x' }, privilege: 'read' }
    })
    t.equal(res.statusCode, 201, 'edit implies read, and read does not imply manage')
    t.same(await rows(built), ['user:ed:edit', 'user:x:read'])
  })
})


t.test('anonymous may never hold a privilege that implies manage', async (t) => {
  await t.rejects(readyWith(t, { ...EDIT_MANAGES, anonymousPrivileges: ['read', 'edit'] }),
    { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /anonymousPrivileges/ }, 'edit implies manage')
  await t.rejects(readyWith(t, { implies: { delete: ['edit'], edit: ['manage'] }, anonymousPrivileges: ['delete'] }),
    { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /anonymousPrivileges/ }, 'delete implies manage through edit')
  await t.resolves(readyWith(t, { ...EDIT_MANAGES, anonymousPrivileges: ['read'] }), 'read does not imply manage')
  await t.resolves(readyWith(t, { implies: { manage: ['read'] }, anonymousPrivileges: ['read'] }), 'being implied by manage is fine')
})
