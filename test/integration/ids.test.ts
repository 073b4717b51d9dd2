// Ids are matched byte-exactly and literally; unusable ids are 404, never 500.
import t from 'tap'
import { build } from '../helper.js'

async function documentsApp (t: Parameters<typeof build>[0], options = {}) {
  const built = await build(t, options, { maxParamLength: 10_000 })
  let ran = 0
  built.app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => { ran++; return 'ok' })
  await built.app.ready()
  return { ...built, ran: () => ran }
}

t.test('case, leading zeros, SQL wildcards and whitespace are literal', async (t) => {
  const { app, as } = await documentsApp(t)
  const grant = async (user: string, id: string) =>
    await app.permissions.grant({ grantee: { kind: 'user', id: user }, resource: 'document', id, privilege: 'read' })
  await grant('Alice', 'Doc')
  await grant('alice', '1')
  await grant('alice', '%')
  await grant('alice', 'a_c')
  await grant('alice', 'x')

  const status = async (user: string, id: string) =>
    (await app.inject({ url: `/d/${encodeURIComponent(id)}`, headers: as(user) })).statusCode
  t.equal(await status('Alice', 'Doc'), 200)
  t.equal(await status('alice', 'Doc'), 403, 'user ids are case-sensitive')
  t.equal(await status('Alice', 'doc'), 403, 'resource ids are case-sensitive')
  t.equal(await status('alice', '1'), 200)
  t.equal(await status('alice', '01'), 403, '1 is not 01')
  t.equal(await status('alice', '1 '), 403, 'trailing space matters')
  t.equal(await status('alice', '%'), 200)
  t.equal(await status('alice', 'anything'), 403, '% is not a wildcard')
  t.equal(await status('alice', 'abc'), 403, '_ is not a wildcard')
  t.equal(await status('alice', 'X'), 403)
  t.equal(await status('alice ', 'x'), 403, 'user ids are not trimmed')
})

t.test('unicode ids are compared exactly, without normalisation', async (t) => {
  const { app, as } = await documentsApp(t)
  await app.permissions.grant({ grantee: { kind: 'user', id: 'zoë' }, resource: 'document', id: 'café', privilege: 'read' })
  t.equal((await app.inject({ url: `/d/${encodeURIComponent('café')}`, headers: as('zoë') })).statusCode, 200)
  // The same text in decomposed form (e + combining accent) is a different id.
  t.equal((await app.inject({ url: `/d/${encodeURIComponent('cafe\u0301')}`, headers: as('zoë') })).statusCode, 403)
  t.equal((await app.inject({ url: `/d/${encodeURIComponent('café')}`, headers: as('zoe\u0308') })).statusCode, 403)
})

t.test('NUL bytes and over-long ids answer 404 without touching the database', async (t) => {
  const { app, as, ran } = await documentsApp(t)
  for (const url of ['/d/a%00b', '/d/%00', `/d/${'a'.repeat(257)}`, `/d/${'é'.repeat(300)}`]) {
    const res = await app.inject({ url, headers: as('alice') })
    t.equal(res.statusCode, 404, url.slice(0, 20))
    t.equal(res.json().code, 'FST_DEFAULT_DENY_NOT_FOUND')
  }
  const superuser = await app.inject({ url: '/d/a%00b', headers: as('root', { superuser: true }) })
  t.equal(superuser.statusCode, 404, 'no one reaches a handler with an unusable id')
  t.equal(ran(), 0)
})

t.test('invalid percent-encoding never reaches the handler and is never a 500', async (t) => {
  const { app, as, ran } = await documentsApp(t)
  for (const url of ['/d/%ED%A0%80', '/d/%FF', '/d/%E0%A4%A', '/d/%']) {
    const res = await app.inject({ url, headers: as('alice') })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} → ${res.statusCode}`)
  }
  t.equal(ran(), 0)
})

t.test('the service API refuses unusable ids with a 400-coded error and writes nothing', async (t) => {
  const { app } = await documentsApp(t)
  const bad = [
    { grantee: { kind: 'user', id: 'a\u0000' }, resource: 'document', id: '1', privilege: 'read' },
    { grantee: { kind: 'user', id: '' }, resource: 'document', id: '1', privilege: 'read' },
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 'x'.repeat(257), privilege: 'read' },
    { grantee: { kind: 'user', id: 'alice' }, resource: '', id: '1', privilege: 'read' },
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '', privilege: 'read' },
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '\ud800', privilege: 'read' },
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'write' },
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'no_access' },
    { grantee: { kind: 'robot', id: 'alice' }, resource: 'document', id: '1', privilege: 'read' },
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '1', privilege: 'read', expiresAt: new Date('nope') },
    { grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: 7, privilege: 'read' }
  ]
  for (const input of bad) {
    await t.rejects(app.permissions.grant(input as never), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', statusCode: 400 }, JSON.stringify(input).slice(0, 80))
  }
  t.same(await app.permissions.listGrants({ resource: 'document', id: '1' }), [])
})
