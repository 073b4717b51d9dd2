// 503 means "the check or the database failed": it must never be the answer
// to a request that is simply malformed. Input the schemas let through but
// PostgreSQL refuses (a NUL in text, a number past bigint) is the client's
// error, a 400, and nothing is written.
import t from 'tap'
import type { InjectOptions } from 'fastify'
import { olgaOwnsD1, snapshot } from '../helper.js'

// A refusal of the client's input names the field and the rule.
const INVALID_REQUEST = { statusCode: 400, code: 'FST_DEFAULT_DENY_INVALID_REQUEST', error: 'Bad Request', message: / must | is required| is not a known / }
const SU = { su: true }
const BIGINT_MAX = '9223372036854775807'



t.test('a NUL in a reason is a 400, not a database failure', async (t) => {
  const { app, as, db, schema } = await olgaOwnsD1(t)
  const json = { ...as('olga'), 'content-type': 'application/json' }
  const requests: Array<[string, InjectOptions]> = [
    ['POST grants', { method: 'POST', url: '/permissions/document/d1/grants', headers: json, payload: '{"grantee":{"kind":"user","id":"dave"},"privilege":"read","reason":"a\\u0000b"}' }],
    ['PUT grantee', { method: 'PUT', url: '/permissions/document/d1/grantees/user/dave', headers: json, payload: '{"privileges":["read"],"reason":"a\\u0000b"}' }],
    ['PUT owner', { method: 'PUT', url: '/permissions/document/d1/owner', headers: json, payload: '{"owner":"pat","reason":"a\\u0000b"}' }],
    ['POST bulk', { method: 'POST', url: '/permissions/bulk', headers: json, payload: '{"grant":[{"resource":"document","id":"d1","grantee":{"kind":"user","id":"dave"},"privilege":"read"}],"reason":"\\u0000"}' }],
    ['DELETE one grant', { method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit?reason=a%00b', headers: as('olga') }],
    ['DELETE grantee', { method: 'DELETE', url: '/permissions/document/d1/grantees/user/carol?reason=a%00b', headers: as('olga') }]
  ]
  for (const [name, request] of requests) {
    const before = await snapshot(db, schema)
    const res = await app.inject(request)
    t.equal(res.statusCode, 400, `${name}: status`)
    t.match(res.json(), INVALID_REQUEST, `${name}: body`)
    t.same(await snapshot(db, schema), before, `${name}: nothing written`)
  }
  t.same((await app.permissions.listGrants({ resource: 'document', id: 'd1' })).map((g) => g.privilege).sort(), ['edit', 'read'], 'carol keeps both')
  t.equal(await app.permissions.getOwner({ resource: 'document', id: 'd1' }), 'olga')
})

t.test('?before= past the bigint range is a 400 on both audit routes; the bigint maximum is fine', async (t) => {
  const { app, as, db, schema } = await olgaOwnsD1(t)
  const total = (await snapshot(db, schema)).audit
  const routes: Array<[string, string, { authorization: string }]> = [
    ['whole trail', '/permissions/audit', as('root', SU)],
    ['one resource', '/permissions/document/d1/audit', as('olga')]
  ]
  for (const [name, url, headers] of routes) {
    // Both have nineteen digits, so the schema's pattern lets them through, yet neither fits a bigint.
    for (const before of ['9999999999999999999', '9223372036854775808']) {
      const res = await app.inject({ url: `${url}?before=${before}`, headers })
      t.equal(res.statusCode, 400, `${name}, before=${before}: status`)
      t.match(res.json(), INVALID_REQUEST, `${name}, before=${before}: body`)
    }
    const max = await app.inject({ url: `${url}?before=${BIGINT_MAX}`, headers })
    t.equal(max.statusCode, 200, `${name}, before=bigint max`)
    t.equal(max.json().entries?.length, total, `${name}: every entry is older than the bigint max`)
    const paged = await app.inject({ url: `${url}?before=${BIGINT_MAX}&limit=1`, headers })
    t.equal(paged.statusCode, 200, `${name}: with a limit too`)
  }
})

t.test('service API: audit({ before }) past the bigint range is an invalid argument', async (t) => {
  const { app, db, schema } = await olgaOwnsD1(t)
  await t.rejects(app.permissions.audit({ before: '9999999999999999999' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(app.permissions.audit({ before: '9223372036854775808' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  await t.rejects(app.permissions.audit({ resource: { resource: 'document', id: 'd1' }, before: '9999999999999999999' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' })
  const entries = await app.permissions.audit({ before: BIGINT_MAX })
  t.equal(entries.length, (await snapshot(db, schema)).audit, 'the bigint maximum is accepted')
})
