// Type tests, checked by `tsc --noEmit` (part of `npm test`): the valid shapes
// compile, and each `@ts-expect-error` line must really be an error.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import type { Kysely } from 'kysely'
import defaultDeny, { codes, runMigrations, type GranteeRef, type Principal } from '../../fastify-plugin.js'

declare const db: Kysely<any>
const app = Fastify()
await app.register(jwt, { secret: 'x'.repeat(32) })
await app.register(defaultDeny, { db, hideForbidden: true, implies: { edit: ['read'] }, grantRoutes: { prefix: '/acl' } })
await app.register(defaultDeny, { connectionString: 'postgres://localhost/db', rules: { paths: { 'admin/': 'local' }, groups: { local: { type: 'whitelist', list: ['127.0.0.1'] } } } })

app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => {
  const principal: Principal | null = request.principal
  const level: string | null = request.accessLevel
  return { principal, level }
})
app.get('/d', { config: { permission: { resource: 'document', privilege: 'edit', id: false } } }, async () => 'x')
app.get('/q', { config: { permission: { resource: 'document', privilege: 'delete', id: (request) => String(request.query) } } }, async () => 'x')
app.get('/p/:docId', { config: { permission: { resource: 'document', privilege: 'manage', param: 'docId' } } }, async () => 'x')
app.get('/health', { config: { permission: 'public' } }, async () => 'ok')
app.get('/me', { config: { permission: 'authenticated' } }, async () => 'me')

// @ts-expect-error an unknown privilege does not compile
app.get('/w/:id', { config: { permission: { resource: 'document', privilege: 'write' } } }, async () => 'x')
// @ts-expect-error nor does an unknown keyword
app.get('/x', { config: { permission: 'private' } }, async () => 'x')
// @ts-expect-error the resource type is required
app.get('/y/:id', { config: { permission: { privilege: 'read' } } }, async () => 'x')
// @ts-expect-error an unknown option does not compile
await app.register(defaultDeny, { db, hideForbiden: true })

const grantee: GranteeRef = { kind: 'group', id: 'editors' }
await app.permissions.grant({ grantee, resource: 'document', id: '1', privilege: 'read', expiresAt: new Date() })
await app.permissions.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: null, privilege: 'read' })
// @ts-expect-error an anonymous grantee has no id
await app.permissions.grant({ grantee: { kind: 'anonymous', id: 'x' }, resource: 'document', id: '1', privilege: 'read' })
await db.transaction().execute(async (trx) => {
  await app.permissions.setOwner({ resource: 'document', id: '1', owner: 'alice' }, { db: trx, actor: 'alice', reason: 'created' })
})
const allowed: boolean = await app.permissions.check(app.permissions.anonymous, { resource: 'document', id: '1', privilege: 'read' })
const known = await app.permissions.browse({ resource: 'document', prefix: 'q3_', limit: 50 }, { viewer: app.permissions.anonymous })
const grantCounts: number[] = known.resources.map((r) => r.grants)
const access = await app.permissions.access({ kind: 'group', id: 'staff' }, { resource: 'document', privilege: 'edit', after: known.next })
const through: string[] = access.resources.flatMap((r) => r.privileges.flatMap((p) => p.via.map((v) => v.source)))
// @ts-expect-error access asks about a principal or a group, not an anonymous grantee
await app.permissions.access({ kind: 'anonymous' }, { resource: 'document' })
// @ts-expect-error browse needs the resource type
await app.permissions.browse({ prefix: 'a' })
// @ts-expect-error an unknown privilege does not compile
await app.permissions.access(app.permissions.anonymous, { resource: 'document', privilege: 'write' })
const ran: string[] = await runMigrations(db, { schema: 'authz' })
const status: number = new codes.FST_DEFAULT_DENY_FORBIDDEN().statusCode
export { allowed, ran, status, grantCounts, through }
