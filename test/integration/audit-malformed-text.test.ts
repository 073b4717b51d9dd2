// Reasons and request ids are hashed into the audit chain before they are
// stored. Text PostgreSQL cannot keep as given (a lone surrogate comes back as
// U+FFFD, a NUL is refused) or that is over-long must be refused up front:
// otherwise the stored row differs from the hashed one and the whole trail
// stops verifying.
import t from 'tap'
import type { Kysely } from 'kysely'
import type { ServiceCallOptions } from '../../fastify-plugin.js'
import { olgaOwnsD1, snapshot, type Built } from '../helper.js'

// A refusal of the client's input names the field and the rule.
const INVALID_REQUEST = { statusCode: 400, code: 'FST_DEFAULT_DENY_INVALID_REQUEST', error: 'Bad Request', message: / must | is required| is not a known / }
const SU = { su: true }

const MALFORMED: Array<[string, string]> = [
  ['lone high surrogate', 'x\ud800'],
  ['lone low surrogate', '\udfffy'],
  ['surrogates in the wrong order', '\udc00\ud800'],
  ['NUL', 'a\u0000b'],
  ['501 characters', 'x'.repeat(501)]
]

// Valid, if unusual: each must be stored as sent and keep the chain intact.
const UNUSUAL = [
  'emoji 🙂👍🏽',
  'astral 𝄞',
  '\ufffd',
  'שלום עולם',
  'line\u2028separator',
  'x'.repeat(500)
]


async function auditCount (db: Kysely<any>, schema: string): Promise<number> {
  return (await snapshot(db, schema)).audit
}

async function verify (built: Built) {
  const res = await built.app.inject({ url: '/permissions/audit/verify', headers: built.as('root', SU) })
  return { status: res.statusCode, body: res.json() as { ok: boolean, entries: number, brokenAt: string | null } }
}


t.test('the reported case: a lone surrogate in a grant reason is refused and the chain still verifies', async (t) => {
  const built = await olgaOwnsD1(t)
  const { app, as, db, schema } = built
  const before = await snapshot(db, schema)
  const res = await app.inject({
    method: 'POST',
    url: '/permissions/document/d1/grants',
    headers: { ...as('olga'), 'content-type': 'application/json' },
    payload: '{"grantee":{"kind":"user","id":"carol"},"privilege":"delete","reason":"x\\ud800"}'
  })
  t.equal(res.statusCode, 400)
  t.match(res.json(), INVALID_REQUEST)
  t.same(await snapshot(db, schema), before, 'no grant, owner or audit row written')
  const verified = await verify(built)
  t.equal(verified.status, 200)
  t.match(verified.body, { ok: true, entries: before.audit, brokenAt: null })
})

t.test('malformed reasons are refused on every route that takes one; valid unusual reasons are kept and verify', async (t) => {
  const built = await olgaOwnsD1(t)
  const { app, as, db, schema } = built
  const carol = { kind: 'user', id: 'carol' }

  // Ordered so that every request would really change something: a change
  // that is a no-op writes no audit row, so a bad reason on it proves nothing.
  const routes: Array<{ name: string, method: 'POST' | 'PUT' | 'DELETE', url: string, body?: (reason: string) => unknown }> = [
    { name: 'POST grants', method: 'POST', url: '/permissions/document/d1/grants', body: (reason) => ({ grantee: { kind: 'user', id: 'dave' }, privilege: 'read', reason }) },
    { name: 'PUT user grantee', method: 'PUT', url: '/permissions/document/d1/grantees/user/erin', body: (reason) => ({ privileges: ['read', 'edit'], reason }) },
    { name: 'PUT anonymous grantee', method: 'PUT', url: '/permissions/document/d1/grantees/anonymous', body: (reason) => ({ privileges: ['read'], reason }) },
    { name: 'DELETE one grant', method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit' },
    { name: 'DELETE user grantee', method: 'DELETE', url: '/permissions/document/d1/grantees/user/erin' },
    { name: 'PUT whole grant set', method: 'PUT', url: '/permissions/document/d1/grants', body: (reason) => ({ grants: [{ grantee: carol, privilege: 'read' }, { grantee: { kind: 'group', id: 'staff' }, privilege: 'read' }], reason }) },
    {
      name: 'POST bulk',
      method: 'POST',
      url: '/permissions/bulk',
      body: (reason) => ({
        grant: [{ resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'frank' }, privilege: 'read' }],
        revoke: [{ resource: 'document', id: 'd1', grantee: { kind: 'group', id: 'staff' }, privilege: 'read' }],
        reason
      })
    },
    // Last: afterwards olga no longer owns d1.
    { name: 'PUT owner', method: 'PUT', url: '/permissions/document/d1/owner', body: (reason) => ({ owner: 'pat', reason }) }
  ]

  let n = 0
  for (const route of routes) {
    const send = (reason: string, raw?: string) => route.body === undefined
      ? app.inject({ method: route.method, url: `${route.url}?reason=${raw ?? encodeURIComponent(reason)}`, headers: as('olga') })
      : app.inject({ method: route.method, url: route.url, headers: { ...as('olga'), 'content-type': 'application/json' }, payload: JSON.stringify(route.body(reason)) })

    const attempts: Array<[string, string, string?]> = route.body === undefined
      // A lone surrogate cannot be percent-encoded as UTF-8; NUL and length can.
      ? [['NUL', 'a\u0000b', 'a%00b'], ['NUL alone', '\u0000', '%00'], ['501 characters', 'x'.repeat(501)]]
      : MALFORMED
    for (const [label, reason, raw] of attempts) {
      const before = await snapshot(db, schema)
      const res = await send(reason, raw)
      t.equal(res.statusCode, 400, `${route.name}, ${label}: status`)
      t.match(res.json(), INVALID_REQUEST, `${route.name}, ${label}: body`)
      t.same(await snapshot(db, schema), before, `${route.name}, ${label}: nothing written`)
    }

    const reason = UNUSUAL[n++ % UNUSUAL.length] as string
    const written = await auditCount(db, schema)
    const ok = await send(reason)
    t.ok(ok.statusCode === 200 || ok.statusCode === 201, `${route.name}, valid reason: ${ok.statusCode}`)
    const added = await auditCount(db, schema) - written
    t.ok(added > 0, `${route.name}: the valid write was audited`)
    if (added > 0) {
      const entries = await app.permissions.audit({ limit: added })
      t.same(entries.map((e) => e.reason), entries.map(() => reason), `${route.name}: the reason is stored exactly as sent`)
    }
  }

  const verified = await verify(built)
  t.equal(verified.status, 200)
  t.match(verified.body, { ok: true, entries: await auditCount(db, schema), brokenAt: null }, 'the chain verifies after all of it')
  t.equal((await app.permissions.verifyAudit()).ok, true)
})

t.test('a ?reason= whose percent-encoding is not UTF-8 is refused with 400, not stored encoded', async (t) => {
  const built = await olgaOwnsD1(t)
  const { app, as, db, schema } = built
  await app.permissions.addMember({ group: 'team', member: { kind: 'user', id: 'bob' } }, { actor: 'olga' })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'olga' }, resource: 'group', id: 'team', privilege: 'manage' })
  const before = await snapshot(db, schema)
  const routes = [
    ['DELETE', '/permissions/document/d1/grants/user/carol/edit'],
    ['DELETE', '/permissions/document/d1/grantees/user/carol'],
    ['PUT', '/permissions/groups/team/members/user/dave'],
    ['DELETE', '/permissions/groups/team/members/user/bob']
  ] as const
  // An encoded surrogate, a byte that starts no UTF-8 sequence, an overlong
  // NUL, a truncated sequence and an escape that is not hex.
  for (const bad of ['x%ED%A0%80', '%ff', 'a%C0%80', 'caf%C3', '%zz', 'ok&reason=%ff']) {
    for (const [method, url] of routes) {
      const res = await app.inject({ method, url: `${url}?reason=${bad}`, headers: as('olga') })
      t.equal(res.statusCode, 400, `${method} ${url}?reason=${bad}`)
      t.match(res.json(), { ...INVALID_REQUEST, field: '/reason', in: 'query' })
    }
  }
  t.same(await snapshot(db, schema), before, 'nothing written')
  // Well-formed encodings still pass, decoded once.
  const ok = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit?reason=caf%C3%A9+%F0%9F%99%82', headers: as('olga') })
  t.equal(ok.statusCode, 200)
  const [entry] = await app.permissions.audit({ limit: 1 })
  t.equal(entry?.reason, 'café 🙂', 'stored decoded, exactly')
  const verified = await verify(built)
  t.match(verified.body, { ok: true, brokenAt: null })
})

t.test('an HTTP request id longer than 200 characters is refused before it reaches the audit trail', async (t) => {
  const built = await olgaOwnsD1(t, { requestIdHeader: 'x-request-id' })
  const { app, as, db, schema } = built
  const before = await snapshot(db, schema)
  const long = 'r'.repeat(201)
  const post = await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: { ...as('olga'), 'x-request-id': long },
    payload: { grantee: { kind: 'user', id: 'dave' }, privilege: 'read', reason: 'onboarding' }
  })
  t.equal(post.statusCode, 400)
  t.match(post.json(), INVALID_REQUEST)
  const revoke = await app.inject({ method: 'DELETE', url: '/permissions/document/d1/grants/user/carol/edit', headers: { ...as('olga'), 'x-request-id': long } })
  t.equal(revoke.statusCode, 400)
  t.match(revoke.json(), INVALID_REQUEST)
  const owner = await app.inject({
    method: 'PUT', url: '/permissions/document/d1/owner', headers: { ...as('olga'), 'x-request-id': long },
    payload: { owner: 'pat' }
  })
  t.equal(owner.statusCode, 400)
  t.match(owner.json(), INVALID_REQUEST)
  t.same(await snapshot(db, schema), before, 'nothing written')

  const exact = 'r'.repeat(200)
  const ok = await app.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: { ...as('olga'), 'x-request-id': exact },
    payload: { grantee: { kind: 'user', id: 'dave' }, privilege: 'read', reason: 'onboarding' }
  })
  t.equal(ok.statusCode, 201, '200 characters are accepted')
  t.equal((await app.permissions.audit({ limit: 1 }))[0]?.requestId, exact)
  t.match((await verify(built)).body, { ok: true, brokenAt: null })
})

t.test('service API: malformed reasons and request ids are refused and write nothing', async (t) => {
  const built = await olgaOwnsD1(t)
  const { app, db, schema } = built
  const p = app.permissions
  const dave = { kind: 'user', id: 'dave' } as const
  const carol = { kind: 'user', id: 'carol' } as const
  const d1 = { resource: 'document', id: 'd1' }
  const bad: Array<[string, ServiceCallOptions]> = [
    ['reason with a lone surrogate', { reason: 'x\ud800' }],
    ['reason with a NUL', { reason: 'a\u0000b' }],
    ['reason of 501 characters', { reason: 'x'.repeat(501) }],
    ['request id with a lone surrogate', { requestId: 'x\ud800' }],
    ['request id with a NUL', { requestId: 'a\u0000' }],
    ['request id of 201 characters', { requestId: 'r'.repeat(201) }]
  ]
  // Every write takes the same options, so every write must check them.
  const writes: Array<[string, (options: ServiceCallOptions) => Promise<unknown>]> = [
    ['grant', (o) => p.grant({ ...d1, grantee: dave, privilege: 'read', grantedBy: 'olga' }, o)],
    ['revoke', (o) => p.revoke({ ...d1, grantee: carol, privilege: 'edit' }, o)],
    ['replace', (o) => p.replace({ ...d1, grantee: carol, privileges: ['read', 'delete'] }, o)],
    ['setOwner', (o) => p.setOwner({ ...d1, owner: 'pat' }, o)],
    ['forgetResource', (o) => p.forgetResource(d1, o)]
  ]
  for (const [method, call] of writes) {
    for (const [label, options] of bad) {
      const before = await snapshot(db, schema)
      await t.rejects(call({ actor: 'olga', ...options }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT' }, `${method}: ${label}`)
      t.same(await snapshot(db, schema), before, `${method}: ${label}: nothing written`)
    }
  }

  await p.grant({ ...d1, grantee: dave, privilege: 'read', grantedBy: 'olga' }, { reason: 'astral 𝄞', requestId: 'r'.repeat(200) })
  const [entry] = await p.audit({ limit: 1 })
  t.equal(entry?.reason, 'astral 𝄞')
  t.equal(entry?.requestId, 'r'.repeat(200), 'a 200-character request id is accepted')
  t.match(await p.verifyAudit(), { ok: true, entries: await auditCount(db, schema), brokenAt: null })
})
