// A leading U+FEFF (byte order mark) in an id, an actor or a reason is
// refused on both backends alike: the embedded database's client drops it
// from every text value it returns, PostgreSQL keeps it, so one backend
// would store something other than what was granted and audited.
import t from 'tap'
import { build, snapshot } from '../helper.js'

t.test('ids, actors and reasons beginning with a byte order mark are refused, nothing written', async (t) => {
  const { app, as, db, schema } = await build(t, { superuserClaim: 'su' })
  await app.ready()
  const before = await snapshot(db, schema)
  const grant = (fields: Record<string, unknown>) => app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read', ...fields } as never)
  await t.rejects(grant({ id: '\ufeffd1' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, 'a resource id')
  await t.rejects(grant({ grantee: { kind: 'user', id: '\ufeffalice' } }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, 'a grantee id')
  await t.rejects(app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'd1', privilege: 'read' }, { reason: '\ufeffwhy' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, 'a reason')
  const http = await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: as('root', { su: true }),
    payload: { grantee: { kind: 'user', id: '\ufeffbob' }, privilege: 'read' }
  })
  t.equal(http.statusCode, 400)
  t.match(http.json(), { code: 'FST_DEFAULT_DENY_INVALID_REQUEST', field: '/grantee/id' })
  t.same(await snapshot(db, schema), before, 'nothing written')
  // Inside an id, not at its start, it is an ordinary character and kept exactly.
  await grant({ id: 'd\ufeff1' })
  const [stored] = await app.permissions.listGrants({ resource: 'document', id: 'd\ufeff1' })
  t.equal(stored?.id, 'd\ufeff1')
})
