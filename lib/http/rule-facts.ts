// A request, as the facts the pure rules evaluator reads.
import type { TLSSocket } from 'node:tls'
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../../fastify-plugin.js'
import type { RequestFacts } from '../rules/index.js'
import type { RulePath } from '../rules/reloader.js'

function peerCertificate (request: FastifyRequest): RequestFacts['cert'] {
  const socket = request.raw.socket as Partial<TLSSocket>
  if (typeof socket.getPeerCertificate !== 'function') return null
  // A resumed TLS 1.3 session can report `authorized` without a certificate:
  // require both.
  if (socket.authorized !== true) return { verified: false, subjectCN: null }
  const certificate = socket.getPeerCertificate()
  if (certificate === null || typeof certificate !== 'object' || Object.keys(certificate).length === 0) {
    return { verified: false, subjectCN: null }
  }
  const cn = certificate.subject?.CN
  return { verified: true, subjectCN: typeof cn === 'string' ? cn : null }
}

/** The body is only read once it has been parsed (`withBody`, in preValidation). */
export function ruleFacts (
  request: FastifyRequest,
  where: RulePath,
  principal: Principal | null,
  level: string | null,
  withBody: boolean
): RequestFacts {
  return {
    path: where.path,
    trailingSlash: where.trailingSlash,
    ip: request.ip,
    secure: request.protocol === 'https',
    headers: request.headers as RequestFacts['headers'],
    rawHeaders: request.raw.rawHeaders,
    user: principal?.kind === 'user' ? principal.id : null,
    level,
    cert: peerCertificate(request),
    query: typeof request.query === 'object' && request.query !== null ? request.query as Record<string, unknown> : null,
    body: withBody ? request.body : undefined
  }
}
