// Type tests for the stepUp option and explain's step-up fields, checked by
// `tsc --noEmit`.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import type { Kysely } from 'kysely'
import defaultDeny, { codes, type Explanation, type Principal, type StepUpStatus } from '../../fastify-plugin.js'

declare const db: Kysely<any>
declare const principal: Principal
const app = Fastify()
await app.register(jwt, { secret: 'x'.repeat(32) })
await app.register(defaultDeny, { db, stepUp: {} })
await app.register(defaultDeny, { db, stepUp: false })
await app.register(defaultDeny, { db, stepUp: { privileges: ['edit', 'manage'], claim: 'acr', values: ['urn:example:gold'], maxAge: 900, acrValues: ['urn:example:gold'] } })
// @ts-expect-error maxAge is a number of seconds
await app.register(defaultDeny, { db, stepUp: { maxAge: '15m' } })
// @ts-expect-error an unknown key does not compile
await app.register(defaultDeny, { db, stepUp: { factor: 'mfa' } })

const explanation: Explanation = await app.permissions.explain(principal, { resource: 'document', id: '1', privilege: 'edit' })
const status: StepUpStatus | undefined = explanation.stepUp
const satisfied: boolean | null | undefined = status?.satisfied
const marked: boolean | undefined = explanation.privileges[0]?.stepUp
const refusal: Error = new codes.FST_DEFAULT_DENY_STEP_UP_REQUIRED()
export { marked, refusal, satisfied }
