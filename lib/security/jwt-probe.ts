// What can be learnt about @fastify/jwt from outside. Its secret is held in
// closures, out of reach: neither its value nor its length can be read. So
// the verifier is asked instead: forged tokens (unsigned, or signed with
// well-known sample secrets) are handed to `fastify.jwt.verify`, and any one
// it accepts is a finding. Only a fixed key is probed: a key callback might
// do I/O or expect a request, so it is never called.
import { createHmac } from 'node:crypto'
import type { JwtFacts } from './facts.js'

/** Placeholder secrets from samples, tutorials and .env templates. */
export const SAMPLE_SECRETS: readonly string[] = Object.freeze([
  'secret', 'Secret', 'SECRET', 'secret123', 'secretkey', 'secret-key', 'secret_key', 'mysecret', 'my-secret', 'mySecret',
  'mysecretkey', 'my-secret-key', 'supersecret', 'super-secret', 'supersecretkey', 'topsecret', 's3cr3t', 'shhhhh',
  'shhhhhhared-secret', 'keyboard cat', 'changeme', 'change-me', 'changeit', 'CHANGE_ME', 'replace-me', 'your-secret',
  'your-secret-key', 'your_jwt_secret', 'yoursecret', 'your-256-bit-secret', 'a-string-secret-at-least-256-bits-long',
  'jwt', 'jwt-secret', 'jwt_secret', 'jwtsecret', 'JWT_SECRET', 'token', 'key', 'private', 'password', 'pass', '123456',
  'test', 'test-secret', 'testsecret', 'dev', 'development', 'example', 'default', 'foo', 'foobar', 'hello', 'admin',
  'abc123', 'qwerty', 'fastify'
])

export interface Decorator {
  verify: (token: string) => unknown
  options?: { verify?: Record<string, unknown> }
}

export const isDecorator = (value: unknown): value is Decorator =>
  typeof value === 'object' && value !== null && typeof (value as Decorator).verify === 'function'

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

function firstString (value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value
  return typeof first === 'string' ? first : undefined
}

/** Claims a strict verifier would ask for, so a forgery fails only on its signature. */
function probeClaims (verify: Record<string, unknown>): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = { sub: 'fastify-default-deny-self-check', iat: now, exp: now + 300 }
  for (const [option, claim] of [['allowedIss', 'iss'], ['allowedAud', 'aud'], ['allowedSub', 'sub'], ['allowedJti', 'jti'], ['allowedNonce', 'nonce']]) {
    const value = firstString(verify[option as string])
    if (value !== undefined) claims[claim as string] = value
  }
  if (Array.isArray(verify.requiredClaims)) {
    for (const claim of verify.requiredClaims) if (typeof claim === 'string' && !(claim in claims)) claims[claim] = 'x'
  }
  return claims
}

/** Whether `verify` accepts the token; only ever called on a synchronous verifier. */
function accepts (decorator: Decorator, token: string): boolean {
  try {
    decorator.verify(token)
    return true
  } catch {
    return false
  }
}

/**
 * A fixed key makes fast-jwt's verifier synchronous: a malformed token
 * throws at once. With a key callback it answers with a promise instead,
 * rejected before the callback would run.
 */
export function hasFixedKey (decorator: Decorator): boolean {
  try {
    const answer = decorator.verify('not-a-token') as { catch?: (f: () => void) => unknown } | undefined
    if (typeof answer?.catch === 'function') answer.catch(() => {})
    return false
  } catch {
    return true
  }
}

function probe (namespace: string | null, decorator: Decorator): JwtFacts {
  const verify = decorator.options?.verify ?? {}
  const pinned = Array.isArray(verify.algorithms) && verify.algorithms.length > 0 ? verify.algorithms.map(String) : null
  const facts: JwtFacts = { namespace, algorithms: pinned, probed: false, acceptsUnsigned: false, acceptsSampleSecret: false }
  if (!hasFixedKey(decorator)) return facts
  facts.probed = true
  const payload = encode(probeClaims(verify))
  facts.acceptsUnsigned = accepts(decorator, `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`)
  // With an asymmetric key or only non-HMAC algorithms pinned, no shared secret is in play.
  const alg = pinned === null ? 'HS256' : pinned.find((name) => /^HS(256|384|512)$/.test(name))
  if (alg !== undefined) {
    const input = `${encode({ alg, typ: 'JWT' })}.${payload}`
    facts.acceptsSampleSecret = SAMPLE_SECRETS.some((secret) =>
      accepts(decorator, `${input}.${createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url')}`))
  }
  return facts
}

/**
 * One entry per @fastify/jwt decorator: `fastify.jwt` and each namespace,
 * which @fastify/jwt keeps as a property of `fastify.jwt` (of the root
 * decorator, when one was registered without a namespace too).
 */
export function jwtFacts (jwt: unknown): JwtFacts[] {
  if (typeof jwt !== 'object' || jwt === null) return []
  const namespaces = Object.entries(jwt).filter(([, value]) => isDecorator(value)).map(([name, value]) => probe(name, value as Decorator))
  return isDecorator(jwt) ? [probe(null, jwt), ...namespaces] : namespaces
}
