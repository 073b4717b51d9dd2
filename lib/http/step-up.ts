// The step-up refusal at the HTTP boundary: a 401 whose WWW-Authenticate
// challenge follows RFC 9470, telling the client what authentication to
// obtain. The challenges are written once, at startup.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import { stepUpShortfall, type StepUpPolicy, type StepUpShortfall } from '../decision/step-up.js'
import { stepUpRequiredError } from '../errors.js'

export interface StepUpGate {
  /** Throws the 401 with its challenge when the principal's token lacks the second factor. */
  enforce: (request: FastifyRequest, reply: FastifyReply, principal: Principal) => void
}

const DESCRIPTIONS: Record<StepUpShortfall, string> = {
  factor: 'A second authentication factor is required',
  max_age: 'A more recent authentication is required'
}

/** The challenge for each shortfall; without a token, no error code (RFC 6750, section 3.1). */
export function stepUpChallenges (policy: StepUpPolicy): Record<StepUpShortfall | 'anonymous', string> {
  const asked = [
    ...(policy.acrValues.length > 0 ? [`acr_values="${policy.acrValues.join(' ')}"`] : []),
    ...(policy.maxAge !== null ? [`max_age="${policy.maxAge}"`] : [])
  ]
  const challenge = (shortfall: StepUpShortfall) =>
    ['Bearer error="insufficient_user_authentication"', `error_description="${DESCRIPTIONS[shortfall]}"`, ...asked].join(', ')
  return {
    factor: challenge('factor'),
    max_age: challenge('max_age'),
    anonymous: asked.length === 0 ? 'Bearer' : `Bearer ${asked.join(', ')}`
  }
}

export function createStepUpGate (policy: StepUpPolicy): StepUpGate {
  const challenges = stepUpChallenges(policy)
  return {
    enforce (request, reply, principal) {
      const shortfall = stepUpShortfall(policy, principal.claims, Date.now())
      if (shortfall === null) return
      request.log.info({ principal: principal.id, shortfall }, 'fastify-default-deny: step-up required')
      reply.header('www-authenticate', principal.kind === 'anonymous' ? challenges.anonymous : challenges[shortfall])
      throw stepUpRequiredError()
    }
  }
}
