// The lines a host copies from the README, under the strictest compiler
// settings (test/types/tsconfig.json: exactOptionalPropertyTypes and more).
// Each must compile as written, with no `!` or cast.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import defaultDeny, { requireUser, type UserPrincipal } from '../../fastify-plugin.js'
import type { Kysely } from 'kysely'

declare const kysely: Kysely<any>

const app = Fastify()
await app.register(jwt, { secret: process.env.JWT_SECRET ?? 'x'.repeat(32), verify: { algorithms: ['HS256'] } })
// An environment variable is `string | undefined`: the options accept exactly that.
await app.register(defaultDeny, { connectionString: process.env.DATABASE_URL, schema: process.env.AUTHZ_SCHEMA })
await app.register(defaultDeny, { db: kysely, hideForbidden: process.env.HIDE === '1' })

app.get('/me', { config: { permission: 'authenticated' } }, async (request) => {
  const user: UserPrincipal = requireUser(request)
  const id: string = user.id
  const kind: 'user' = user.kind
  return { id, kind, groups: user.groups }
})

app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => {
  const visible = app.permissions.filter(requireUser(request), { resource: 'document', privilege: 'read' }, 'document.id')
  return { visible: visible !== undefined }
})
