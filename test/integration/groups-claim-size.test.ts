// The size of a token's groups claim: bounded by `maxGroups` (a claim over the
// bound is bad credentials, 401), and within the bound any size the option
// allows must work, well past the 65,535 bind parameters of one statement.
import t from 'tap'
import { build, logCapture, readyWith } from '../helper.js'

const UNAUTHORIZED = { statusCode: 401, code: 'FST_DEFAULT_DENY_UNAUTHORIZED', error: 'Unauthorized', message: 'Unauthorized' }
const READ = { config: { permission: { resource: 'document' as const, privilege: 'read' as const } } }

// A handler that wrongly ran answers plain text: keep asserting instead of throwing.
const bodyOf = (res: { body: string }): unknown => { try { return JSON.parse(res.body) } catch { return res.body } }
const codeOf = (res: { body: string }) => (bodyOf(res) as { code?: unknown } | null)?.code

// Distinct names, so the count cannot shrink by de-duplication.
const groupNames = (n: number) => Array.from({ length: n }, (_, i) => `g${i}`)


t.test('by default a token may carry 1000 groups; 1001 is a 401, even when a group holds the grant', async (t) => {
  const { lines, logger } = logCapture()
  const { app, as } = await build(t, {}, { logger })
  let ran = 0
  app.get('/documents/:id', READ, async () => { ran++; return 'ok' })
  app.get('/me', { config: { permission: 'authenticated' } }, async () => { ran++; return 'me' })
  app.get('/health', { config: { permission: 'public' } }, async () => 'up')
  await app.ready()
  const atLimit = groupNames(1000)
  const overLimit = groupNames(1001)
  // Both claims contain the group that holds the grant: only the size differs.
  await app.permissions.grant({ grantee: { kind: 'group', id: 'g999' }, resource: 'document', id: 'd1', privilege: 'read' })

  t.equal((await app.inject({ url: '/documents/d1', headers: as('alice', { groups: atLimit }) })).statusCode, 200, 'exactly 1000 groups')
  t.equal(ran, 1)

  const over = as('alice', { groups: overLimit })
  const res = await app.inject({ url: '/documents/d1', headers: over })
  t.equal(res.statusCode, 401, '1001 groups')
  t.same(bodyOf(res), UNAUTHORIZED, 'the generic 401 body')
  t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
  const me = await app.inject({ url: '/me', headers: over })
  t.equal(me.statusCode, 401, "'authenticated' routes refuse the token too")
  t.equal(codeOf(me), 'FST_DEFAULT_DENY_UNAUTHORIZED')
  t.equal(ran, 1, 'the handlers did not run for the oversized token')
  t.equal((await app.inject({ url: '/health', headers: over })).statusCode, 200, 'public routes never look at credentials')

  const refused = lines.filter((line) => line.level === 30 && typeof line.reason === 'string' && /group/i.test(line.reason))
  t.ok(refused.length >= 2, 'each refusal is logged at info level with a reason that names the groups claim')
  t.notOk(lines.some((line) => JSON.stringify(line).includes('g1000')), 'the log does not copy the claim')
})

t.test('a small maxGroups: exactly the bound passes, one more is a 401', async (t) => {
  const { app, as } = await build(t, { maxGroups: 3 })
  let ran = 0
  app.get('/documents/:id', READ, async () => { ran++; return 'ok' })
  await app.ready()
  await app.permissions.grant({ grantee: { kind: 'group', id: 'c' }, resource: 'document', id: 'd1', privilege: 'read' })

  t.equal((await app.inject({ url: '/documents/d1', headers: as('alice', { groups: ['a', 'b', 'c'] }) })).statusCode, 200, '3 groups')
  const res = await app.inject({ url: '/documents/d1', headers: as('alice', { groups: ['a', 'b', 'c', 'd'] }) })
  t.equal(res.statusCode, 401, '4 groups')
  t.equal(codeOf(res), 'FST_DEFAULT_DENY_UNAUTHORIZED')
  t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
  t.equal(ran, 1, 'the handler ran only for the token within the bound')
  t.equal((await app.inject({ url: '/documents/d1', headers: as('alice', { groups: [] }) })).statusCode, 403, 'no groups: no grant')
})

t.test('with maxGroups 70000 a 70,000-group token is checked, whose last group holds the grant', async (t) => {
  const { app, token } = await build(t, { maxGroups: 70_000 })
  let ran = 0
  app.get('/documents/:id', READ, async () => { ran++; return 'ok' })
  await app.ready()
  const groups = groupNames(70_000)
  const last = groups.at(-1) as string
  await app.permissions.grant({ grantee: { kind: 'group', id: last }, resource: 'document', id: 'd1', privilege: 'read' })
  // inject does not apply Node's header size limit, so the big token goes through.
  const big = { authorization: `Bearer ${token({ sub: 'u', groups })}` }

  const d1 = await app.inject({ url: '/documents/d1', headers: big })
  t.equal(d1.statusCode, 200, 'allowed through the last group (not a 503)')
  const d2 = await app.inject({ url: '/documents/d2', headers: big })
  t.equal(d2.statusCode, 403, 'no group holds anything on d2')
  t.equal(codeOf(d2), 'FST_DEFAULT_DENY_FORBIDDEN')
  t.equal(ran, 1)

  const principal = { kind: 'user' as const, id: 'u', groups, superuser: false, claims: null }
  t.equal(await app.permissions.check(principal, { resource: 'document', id: 'd1', privilege: 'read' }), true, 'the service API check agrees')
  t.equal(await app.permissions.check(principal, { resource: 'document', id: 'd2', privilege: 'read' }), false)

  const over = await app.inject({ url: '/documents/d1', headers: { authorization: `Bearer ${token({ sub: 'u', groups: groupNames(70_001) })}` } })
  t.equal(over.statusCode, 401, '70,001 groups is over the bound')
  t.equal(codeOf(over), 'FST_DEFAULT_DENY_UNAUTHORIZED')
  t.equal(ran, 1, 'the handler did not run for it')
})


t.test('maxGroups must be an integer from 1 to 100000', async (t) => {
  for (const maxGroups of [0, 100_001, 1.5, '10', -1, Number.NaN, null]) {
    await t.rejects(readyWith(t, { maxGroups }), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /maxGroups/ }, `maxGroups: ${String(maxGroups)}`)
  }
  for (const maxGroups of [1, 1000, 100_000]) {
    await t.resolves(readyWith(t, { maxGroups }), `maxGroups: ${maxGroups}`)
  }
})
