// The example app as the policy-test runner builds it (--app, or policyTest's
// app option): on the database the runner gives it, one per fixture.
//   npx fastify-default-deny test "examples/policies/*.yaml" --app examples/policy-app.ts
// (from TypeScript sources, run the tool through tsx: npx tsx bin/cli.ts test …)
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { buildExample } from './app.js'

export default async ({ db }: { db: Kysely<any> }) => await buildExample({ db, secret: randomBytes(32).toString('hex') })
