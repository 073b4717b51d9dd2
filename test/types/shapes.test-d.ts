// The public types are hand-written (fastify-plugin.d.ts ships as it is);
// where one describes a shape the grant API's schemas define
// (lib/shapes/grant-api.ts), the two must say the same: each assignable to
// the other. Checked by `tsc --noEmit`.
import type { AuditVerification, Explanation, GranteeRef, Reason, StepUpStatus } from '../../fastify-plugin.js'
import type { Answer, GranteeInput } from '../../lib/shapes/grant-api.js'

type ExplanationAnswer = Answer<'Explanation'>

type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false
const same = <A, B>(proof: Same<A, B>): Same<A, B> => proof

same<GranteeRef, GranteeInput>(true)
same<AuditVerification, Answer<'AuditVerification'>>(true)
// The grant API's answer adds the principal explained to the service API's.
same<Explanation, Omit<ExplanationAnswer, 'principal'>>(true)
same<Reason, ExplanationAnswer['privileges'][number]['via'][number]>(true)
same<StepUpStatus, NonNullable<ExplanationAnswer['stepUp']>>(true)

// The check has teeth: a shape that differs is refused.
// @ts-expect-error a grantee without its id is not a user
same<GranteeRef, { kind: 'user' | 'anonymous' }>(true)
