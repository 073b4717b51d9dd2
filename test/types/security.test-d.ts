// Type tests for the security self-check: the acknowledge option takes only
// finding ids, and the findings and the manifest are typed. Checked by
// `tsc --noEmit`.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import type { Kysely } from 'kysely'
import defaultDeny, { codes, type RouteManifestEntry, type SecurityFinding, type SecurityFindingId } from '../../fastify-plugin.js'

declare const db: Kysely<any>
const app = Fastify()
await app.register(jwt, { secret: 'x'.repeat(32) })
await app.register(defaultDeny, { db, acknowledge: ['no-https', 'db-superuser'] })
await app.register(defaultDeny, { db, acknowledge: [] })
// @ts-expect-error only known finding ids
await app.register(defaultDeny, { db, acknowledge: ['no-such-finding'] })

const findings: SecurityFinding[] = await app.permissions.checkSecurity()
const id: SecurityFindingId | undefined = findings[0]?.id
const level: 'error' | 'warning' | undefined = findings[0]?.level
const acknowledged: boolean | undefined = findings[0]?.acknowledged
const manifest: RouteManifestEntry[] = app.permissions.routeManifest()
const access: RouteManifestEntry['access'] | undefined = manifest[0]?.access
// @ts-expect-error the manifest is synchronous
const notAPromise: Promise<unknown> = app.permissions.routeManifest()
const refusal: Error = new codes.FST_DEFAULT_DENY_INSECURE('no-https')
export { access, acknowledged, id, level, notAPromise, refusal }
