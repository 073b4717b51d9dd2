// Tenants: `typeLevelGrants.forbid` refuses, on every write path, a grant
// that names a whole type (it would span tenants); a stored one is a
// security finding that stops a production start-up.
import t from 'tap'
import { sql } from 'kysely'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build, readyWith, snapshot } from '../helper.js'

const user = (id: string) => ({ kind: 'user' as const, id })
const TENANT_TYPES = { typeLevelGrants: { forbid: ['org', 'project', 'document'] } }

t.test('the option: shape checked at start-up, its types become known', async (t) => {
  for (const [value, message] of [
    [['org'], /typeLevelGrants.*must be an object/],
    [{ forbid: [] }, /typeLevelGrants\.forbid.*non-empty array/],
    [{ forbid: ['Org!'] }, /typeLevelGrants\.forbid.*names matching/],
    [{ forbid: ['org'], allow: [] }, /typeLevelGrants.*unknown key 'allow'/]
  ] as const) {
    await t.rejects(readyWith(t, { typeLevelGrants: value }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message }, JSON.stringify(value))
  }
  const { app } = await build(t, { resources: [], typeLevelGrants: { forbid: ['org'] } })
  await app.ready()
  await app.permissions.grant({ grantee: user('a'), resource: 'org', id: 'acme', privilege: 'read' })
  t.equal((await app.permissions.check(user('a') as never, { resource: 'org', id: 'acme', privilege: 'read' })), true, 'a forbidden type is a known type')
})

t.test('every write path of the service refuses a type-level grant on a forbidden type, naming the field and the rule; nothing is written', async (t) => {
  const { app, db, schema } = await build(t, TENANT_TYPES)
  await app.ready()
  const p = app.permissions
  const before = await snapshot(db, schema)
  const refusal = { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/id', message: /id must name one "document": type-level grants on "document" are forbidden by the typeLevelGrants option/ }
  await t.rejects(p.grant({ grantee: user('a'), resource: 'document', id: null, privilege: 'read' }), refusal, 'grant')
  await t.rejects(p.replace({ grantee: user('a'), resource: 'document', id: null, privileges: ['read'] }), refusal, 'replace')
  await t.rejects(p.grantMany([
    { grantee: user('a'), resource: 'document', id: 'd1', privilege: 'read' },
    { grantee: user('a'), resource: 'document', id: null, privilege: 'read' }
  ]), { ...refusal, index: 1 }, 'grantMany names the input')
  t.match(await p.validateGrants([
    { grantee: user('a'), resource: 'org', id: null, privilege: 'read' },
    { grantee: user('a'), resource: 'folder', id: null, privilege: 'read' }
  ]), [{ index: 0, code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/id', message: /type-level grants on "org" are forbidden/ }], 'validateGrants (the import\'s check pass) lists it; folder is not forbidden')
  t.same(await snapshot(db, schema), before, 'no grant, no audit row')

  await p.grant({ grantee: user('a'), resource: 'folder', id: null, privilege: 'read' })
  await p.grant({ grantee: user('a'), resource: 'document', id: 'd1', privilege: 'read' })
  t.equal((await p.scanGrants()).grants.length, 2, 'a type not named, and one resource of a named type, still take grants')
})

t.test('a stored type-level grant on a forbidden type: a security finding (an error), and it can still be revoked', async (t) => {
  const { app, db, schema } = await build(t, TENANT_TYPES)
  await app.ready()
  t.notOk((await app.permissions.checkSecurity()).some((f) => f.id === 'type-level-grants-forbidden'))
  // As a plain SQL insert (or a grant from before the option) would leave it.
  await sql`insert into ${sql.table(`${schema}.default_deny_grant`)} (principal_kind, principal_id, resource_type, resource_id, privilege)
    values ('user', 'mallory', 'project', null, 'read')`.execute(db)
  const finding = (await app.permissions.checkSecurity()).find((f) => f.id === 'type-level-grants-forbidden')
  t.match(finding, { level: 'error', message: /type-level grants are stored on project, which typeLevelGrants\.forbid names/ })
  const { removed } = await app.permissions.revoke({ grantee: user('mallory'), resource: 'project', id: null, privilege: 'read' })
  t.equal(removed, true, 'revoking is never refused')
  t.notOk((await app.permissions.checkSecurity()).some((f) => f.id === 'type-level-grants-forbidden'))
})

t.test('no principal of tenant A reaches a resource of tenant B, through any interface', async (t) => {
  const { app, as, db, schema } = await build(t, {
    superuserClaim: 'su',
    typeLevelGrants: { forbid: ['org', 'project', 'document'] },
    hierarchy: { types: { project: { parents: ['org'] }, document: { parents: ['project'] } } }
  })
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'read')
  await app.ready()
  const p = app.permissions
  // Each tenant: an org at the root, owned by its administrator, a staff group reading it, a project, two documents.
  for (const tenant of ['a', 'b']) {
    await p.setParent({ resource: 'project', id: `${tenant}-p` }, { resource: 'org', id: tenant })
    for (const doc of ['1', '2']) await p.setParent({ resource: 'document', id: `${tenant}-d${doc}` }, { resource: 'project', id: `${tenant}-p` })
    await p.setOwner({ resource: 'org', id: tenant, owner: `${tenant}-admin` })
    await p.grant({ grantee: { kind: 'group', id: `${tenant}-staff` }, resource: 'org', id: tenant, privilege: 'read' }, { actor: `${tenant}-admin`, reason: `tenant ${tenant}` })
  }
  const host = db.withSchema(schema)
  await host.schema.createTable('tenant_document').addColumn('id', 'text', (col) => col.primaryKey()).execute()
  await host.insertInto('tenant_document').values(['a-d1', 'a-d2', 'b-d1', 'b-d2'].map((id) => ({ id }))).execute()

  const staffA = userPrincipal('amy', ['a-staff'])
  const adminA = userPrincipal('a-admin', [])
  for (const [name, principal, headers] of [['a staff member', staffA, as('amy', { groups: ['a-staff'] })], ['a\'s manager', adminA, as('a-admin')]] as const) {
    t.test(name, async (t) => {
      t.equal((await app.inject({ url: '/d/a-d1', headers })).statusCode, 200, 'reaches its own tenant')
      t.equal((await app.inject({ url: '/d/b-d1', headers })).statusCode, 403, 'route check')
      t.equal(await p.check(principal, { resource: 'document', id: 'b-d1', privilege: 'read' }), false, 'check')
      t.same(await p.checkMany(principal, { resource: 'document', privilege: 'read', ids: ['a-d1', 'b-d1', 'a-d2', 'b-d2'] }), [true, false, true, false], 'checkMany')
      const filtered = await host.selectFrom('tenant_document').select('id').where(p.filter(principal, { resource: 'document', privilege: 'read' }, 'tenant_document.id')).orderBy('id').execute()
      t.same(filtered.map((r) => r.id), ['a-d1', 'a-d2'], 'filter')
      t.same(await p.listIds(principal, { resource: 'document', privilege: 'read' }), { ids: ['a-d1', 'a-d2'], next: null, all: false }, 'listIds')
      for (const resource of ['org', 'project']) {
        t.equal(await p.check(principal, { resource, id: resource === 'org' ? 'b' : 'b-p', privilege: 'read' }), false, `check on ${resource}`)
      }
      t.match(await p.explain(principal, { resource: 'document', id: 'b-d1', privilege: 'read' }), { decision: 'deny' }, 'explain')
      // The grant API, which is all the admin page can see through.
      for (const url of ['/document/b-d1/grants', '/document/b-d1/explain?kind=user&principal=bob', '/document/b-d1/audit', '/org/b/audit',
        '/document/b-d1/ancestors', '/org/b/children', '/project/b-p/children', '/audit']) {
        t.equal((await app.inject({ url: `/permissions${url}`, headers })).statusCode, 403, `GET ${url}`)
      }
      const before = await snapshot(db, schema)
      for (const [url, payload] of [
        ['/document/b-d1/parent', { parent: { resource: 'project', id: 'a-p' } }],
        ['/document/a-d1/parent', { parent: { resource: 'project', id: 'b-p' } }],
        ['/project/b-p/parent', { parent: null }]
      ] as const) {
        t.equal((await app.inject({ method: 'PUT', url: `/permissions${url}`, headers, payload })).statusCode, 403, `PUT ${url}`)
      }
      t.equal((await app.inject({ method: 'POST', url: '/permissions/document/b-d1/grants', headers, payload: { grantee: { kind: 'user', id: 'amy' }, privilege: 'read' } })).statusCode, 403, 'grant in B')
      t.same(await snapshot(db, schema), before, 'nothing written')
    })
  }
  // B's trail shows nothing of A, and A's own manager reads A's trail.
  const trail = await app.inject({ url: '/permissions/org/a/audit', headers: as('a-admin') })
  t.equal(trail.statusCode, 200)
  t.ok(trail.json().entries.every((e: { resource: string, id: string }) => e.resource === 'org' && e.id === 'a'), 'an org\'s trail holds only its own entries')
})
