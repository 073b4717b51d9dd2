// Tenants: `typeLevelGrants.forbid` refuses, on every write path, a grant
// that names a whole type (it would span tenants); a stored one is a
// security finding that stops a production start-up.
import t from 'tap'
import { sql } from 'kysely'
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
