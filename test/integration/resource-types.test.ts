// The plugin knows its resource types: those of the route annotations (as
// each route is registered), the declared ones (`resources`) and the stored
// groups' type. A grant, an owner or a decision on any other type is refused
// with the nearest known name: it would never count.
import t from 'tap'
import { editDistance, ResourceTypes } from '../../lib/decision/resource-types.js'
import { quoted } from '../../lib/errors.js'
import { build, readyWith, snapshot } from '../helper.js'

const alice = { kind: 'user' as const, id: 'alice', groups: [], superuser: false, claims: null }
const grantee = { kind: 'user' as const, id: 'alice' }

t.test('edit distance counts a swap of neighbours as one edit', async (t) => {
  t.equal(editDistance('documnet', 'document'), 1)
  t.equal(editDistance('docment', 'document'), 1)
  t.equal(editDistance('', 'abc'), 3)
  t.equal(editDistance('invoice', 'invoice'), 0)
  t.equal(editDistance('kitten', 'sitting'), 3)
  const types = new ResourceTypes(false, ['document', 'invoice'], 'group')
  t.equal(types.suggestion('documnet'), 'document')
  t.equal(types.suggestion('Invoice'), 'invoice', 'case is no edit')
  t.equal(types.suggestion('report'), null, 'nothing near')
  t.equal(types.refusal('grup', quoted), 'resource "grup" is not a known resource type (did you mean "group"?); known: document, group, invoice')
})

t.test('the service API refuses a grant, an owner and a decision on an unknown type (a grant was accepted)', async (t) => {
  const { app, db, schema } = await build(t, { resources: ['invoice'] })
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => ({ ok: true }))
  await app.ready()
  const p = app.permissions
  const before = await snapshot(db, schema)
  const refusal = { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/resource', message: 'invalid grant: resource "documnet" is not a known resource type (did you mean "document"?); known: document, group, invoice' }
  await t.rejects(p.grant({ grantee, resource: 'documnet', id: 'd03', privilege: 'read' }), refusal, 'grant')
  await t.rejects(p.grantMany([{ grantee, resource: 'document', id: 'd1', privilege: 'read' }, { grantee, resource: 'documnet', id: 'd03', privilege: 'read' }]), { ...refusal, index: 1 }, 'grantMany')
  await t.rejects(p.replace({ grantee, resource: 'documnet', id: 'd03', privileges: ['read'] }), refusal, 'replace')
  await t.rejects(p.setOwner({ resource: 'documnet', id: 'd03', owner: 'alice' }), refusal, 'setOwner')
  await t.rejects(p.check(alice, { resource: 'documnet', id: 'd03', privilege: 'read' }), refusal, 'check: always a typo, never a silent deny')
  await t.rejects(p.checkMany(alice, { resource: 'documnet', ids: ['d03'], privilege: 'read' }), refusal, 'checkMany')
  await t.rejects(p.listIds(alice, { resource: 'documnet', privilege: 'read' }), refusal, 'listIds')
  t.throws(() => p.filter(alice, { resource: 'documnet', privilege: 'read' }, 'id'), refusal, 'filter')
  await t.rejects(p.explain(alice, { resource: 'documnet', id: 'd03' }), refusal, 'explain')
  await t.rejects(p.listGrants({ resource: 'documnet', id: 'd03' }), refusal, 'listGrants')
  t.same(await snapshot(db, schema), before, 'nothing written')

  t.same((await p.validateGrants([{ grantee, resource: 'documnet', id: 'd03', privilege: 'read' }, { grantee, resource: 'invoice', id: 'i1', privilege: 'wirte' as never }]))
    .map(({ index, field }) => ({ index, field })), [{ index: 0, field: '/resource' }, { index: 1, field: '/privilege' }], 'validateGrants lists every refusal')

  // Declared, annotated and the groups' type are known; removals work on any type.
  for (const resource of ['invoice', 'document', 'group']) t.equal((await p.grant({ grantee, resource, id: 'x', privilege: 'read' })).created, true, resource)
  t.equal((await p.revoke({ grantee, resource: 'documnet', id: 'd03', privilege: 'read' })).removed, false, 'a revoke on an unknown type is no error')
  await p.forgetResource({ resource: 'documnet', id: 'd03' })
  await p.setOwner({ resource: 'documnet', id: 'd03', owner: null })
})

t.test('annotated types count as soon as their route is registered; others only when declared', async (t) => {
  const { app } = await build(t, { resources: [], groupResource: 'team' })
  await t.rejects(app.permissions.grant({ grantee, resource: 'report', id: 'r1', privilege: 'read' }),
    { message: /resource "report" is not a known resource type; known: team \(declare your resource types in the 'resources' option, or annotate routes with them\)/ })
  app.get('/reports/:id', { config: { permission: { resource: 'report', privilege: 'read' } } }, async () => ({ ok: true }))
  t.equal((await app.permissions.grant({ grantee, resource: 'report', id: 'r1', privilege: 'read' })).created, true, 'before ready, once the route is registered')
  t.equal((await app.permissions.grant({ grantee, resource: 'team', id: 't1', privilege: 'read' })).created, true, 'groupResource')
})

t.test("resources: 'any' accepts every type; bad values are refused at startup", async (t) => {
  const { app } = await build(t, { resources: 'any' })
  t.equal((await app.permissions.grant({ grantee, resource: 'anything', id: 'x', privilege: 'read' })).created, true)
  await t.rejects(readyWith(t, { resources: 'all' }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /option 'resources' must be an array of resource types \(non-empty strings\) or 'any'/ })
  await t.rejects(readyWith(t, { resources: ['a', 'a'] }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /must not repeat/ })
  await t.rejects(readyWith(t, { resources: [''] }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION' })
})

t.test('every caller refuses an expiry in the past: the service API as the grant API', async (t) => {
  const { app } = await build(t)
  await t.rejects(app.permissions.grant({ grantee, resource: 'document', id: 'd1', privilege: 'read', expiresAt: new Date('2020-01-01T00:00:00Z') }),
    { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/expiresAt', message: 'invalid grant: expiresAt must be in the future: a grant that has expired never counts (got "2020-01-01T00:00:00.000Z")' })
  t.same(await app.permissions.listGrants({ resource: 'document', id: 'd1' }), [])
})
