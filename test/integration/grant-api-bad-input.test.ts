// Every malformed write is a 4xx with a stable code and a message naming the
// field and the rule, and writes nothing.
import t from 'tap'
import { sql } from 'kysely'
import { build } from '../helper.js'

t.test('strict schemas: no coercion, no extra properties, enums, limits', async (t) => {
  const { app, as, db, schema } = await build(t)
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  const carol = { kind: 'user', id: 'carol' }
  const future = new Date(Date.now() + 60_000).toISOString()
  const PRIVILEGES = 'must be one of read, edit, delete, manage'
  const ID = 'must be a non-empty string of at most 256 characters, without NUL, malformed Unicode or a leading byte order mark'
  // Each refusal names the field (a JSON pointer into the body) and the rule, echoing only what was sent.
  const bodies: Array<[string, unknown, string, string]> = [
    ['privilege as array', { grantee: carol, privilege: ['read'] }, '/privilege', 'privilege must be a string (got an array)'],
    ['privilege as number', { grantee: carol, privilege: 123 }, '/privilege', 'privilege must be a string (got 123)'],
    ['privilege null', { grantee: carol, privilege: null }, '/privilege', 'privilege must be a string (got null)'],
    ['privilege true', { grantee: carol, privilege: true }, '/privilege', 'privilege must be a string (got true)'],
    ['unknown privilege', { grantee: carol, privilege: 'write' }, '/privilege', `privilege ${PRIVILEGES} (got "write")`],
    ['no_access', { grantee: carol, privilege: 'no_access' }, '/privilege', `privilege ${PRIVILEGES} (got "no_access")`],
    ['upper case', { grantee: carol, privilege: 'READ' }, '/privilege', `privilege ${PRIVILEGES} (got "READ")`],
    ['extra property', { grantee: carol, privilege: 'read', owner: 'carol' }, '/owner', 'owner is not a known property (known: grantee, privilege, expiresAt, startsAt, reason)'],
    ['extra grantee property', { grantee: { ...carol, admin: true }, privilege: 'read' }, '/grantee/admin', 'grantee.admin is not a known property (known: kind, id)'],
    ['unknown grantee kind', { grantee: { kind: 'robot', id: 'x' }, privilege: 'read' }, '/grantee/kind', 'grantee.kind must be one of user, group, anonymous (got "robot")'],
    ['anonymous with id', { grantee: { kind: 'anonymous', id: 'x' }, privilege: 'read' }, '/grantee/id', 'grantee.id is not a known property (known: kind)'],
    ['empty grantee id', { grantee: { kind: 'user', id: '' }, privilege: 'read' }, '/grantee/id', 'grantee.id must not be empty (got "")'],
    ['numeric grantee id', { grantee: { kind: 'user', id: 7 }, privilege: 'read' }, '/grantee/id', 'grantee.id must be a string (got 7)'],
    ['NUL in grantee id', { grantee: { kind: 'user', id: 'car\u0000ol' }, privilege: 'read' }, '/grantee/id', `grantee.id ${ID} (got "car\\u0000ol")`],
    ['lone surrogate', { grantee: { kind: 'user', id: '\ud800' }, privilege: 'read' }, '/grantee/id', `grantee.id ${ID} (got "\\ud800")`],
    ['over-long id', { grantee: { kind: 'user', id: 'x'.repeat(257) }, privilege: 'read' }, '/grantee/id', `grantee.id must be at most 256 characters long (got "${'x'.repeat(40)}…")`],
    ['expiry in the past', { grantee: carol, privilege: 'read', expiresAt: '2001-01-01T00:00:00Z' }, '/expiresAt', 'expiresAt must be in the future: a grant that has expired never counts (got "2001-01-01T00:00:00.000Z")'],
    ['expiry not a date', { grantee: carol, privilege: 'read', expiresAt: 'tomorrow' }, '/expiresAt', 'expiresAt must be an ISO 8601 instant with its offset, such as 2027-01-31T12:00:00Z (got "tomorrow")'],
    ['expiry on a day that does not exist', { grantee: carol, privilege: 'read', expiresAt: '2099-02-30T10:00:00Z' }, '/expiresAt', 'expiresAt must be an ISO 8601 instant with its offset, such as 2027-01-31T12:00:00Z (got "2099-02-30T10:00:00Z")'],
    ['start at hour 24', { grantee: carol, privilege: 'read', startsAt: '2099-01-01T24:00:00Z' }, '/startsAt', 'startsAt must be an ISO 8601 instant with its offset, such as 2027-01-31T12:00:00Z (got "2099-01-01T24:00:00Z")'],
    ['expiry as number', { grantee: carol, privilege: 'read', expiresAt: Date.now() + 60_000 }, '/expiresAt', 'expiresAt must be a string (got '],
    ['reason too long', { grantee: carol, privilege: 'read', reason: 'x'.repeat(501), expiresAt: future }, '/reason', 'reason must be at most 500 characters long'],
    ['missing privilege', { grantee: carol }, '/privilege', 'privilege is required'],
    ['array body', [{ grantee: carol, privilege: 'read' }], '', 'the body must be an object (got an array)'],
    ['null body', null, '', 'the body must be an object (got null)']
  ]
  for (const [name, payload, field, message] of bodies) {
    const res = await app.inject({
      method: 'POST', url: '/permissions/document/d1/grants', headers: { ...as('olga'), 'content-type': 'application/json' }, payload: JSON.stringify(payload)
    })
    t.equal(res.statusCode, 400, name)
    const body = res.json()
    t.match(body, { statusCode: 400, code: 'FST_DEFAULT_DENY_INVALID_REQUEST', error: 'Bad Request', field, in: 'body' }, `${name}: the field`)
    t.ok(body.message.startsWith(message), `${name}: ${body.message}`)
  }
  for (const [name, payload] of [['replace with a string', { privileges: 'read' }], ['replace with duplicates', { privileges: ['read', 'read'] }], ['replace with unknown', { privileges: ['read', 'x'] }]] as const) {
    const res = await app.inject({ method: 'PUT', url: '/permissions/document/d1/grantees/user/carol', headers: as('olga'), payload })
    t.equal(res.statusCode, 400, name)
  }
  const rows = await db.withSchema(schema).selectFrom('default_deny_grant').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  t.equal(rows.n, 0, 'nothing was written')
  const audit = await db.withSchema(schema).selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n')).where('action', '!=', 'owner').executeTakeFirstOrThrow()
  t.equal(audit.n, 0, 'no audit rows either')
})

t.test('malformed JSON, wrong media type, huge bodies and bad path ids', async (t) => {
  const { app, as } = await build(t)
  await app.ready()
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  const post = (payload: string | Buffer, type = 'application/json') =>
    app.inject({ method: 'POST', url: '/permissions/document/d1/grants', headers: { ...as('olga'), 'content-type': type }, payload })
  const malformed = await post('{"grantee":')
  t.equal(malformed.statusCode, 400)
  t.notMatch(malformed.body, /Unexpected|position|SyntaxError/, 'no parser internals')
  const media = await post('grantee=x', 'application/x-www-form-urlencoded')
  t.equal(media.statusCode, 415)
  t.equal(media.json().error, 'Unsupported Media Type', 'the label matches the status')
  const huge = await post(JSON.stringify({ grantee: { kind: 'user', id: 'carol' }, privilege: 'read', reason: 'x'.repeat(10 * 1024 * 1024) }))
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().code, 'FST_ERR_CTP_BODY_TOO_LARGE')
  t.equal(huge.json().error, 'Payload Too Large')
  const proto = await post('{"grantee":{"kind":"user","id":"carol"},"privilege":"read","__proto__":{"x":1}}')
  t.equal(proto.statusCode, 400)
  for (const url of ['/permissions/document/a%00b/grants', `/permissions/document/${'x'.repeat(300)}/grants`]) {
    const res = await app.inject({ url, headers: as('olga') })
    t.ok(res.statusCode === 404 || res.statusCode === 400 || res.statusCode === 414, `${url.slice(0, 40)} → ${res.statusCode}`)
  }
  const badQuery = await app.inject({ url: '/permissions/document/d1/audit?limit=0', headers: as('olga') })
  t.equal(badQuery.statusCode, 400)
  t.same(await app.permissions.listGrants({ resource: 'document', id: 'd1' }), [])
})
