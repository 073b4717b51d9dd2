// An app for the security self-check tests: like build() in helper.ts, with
// the @fastify/jwt options, the server options and what is registered
// before the plugin up to the test.
import jwt, { type FastifyJWTOptions } from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import defaultDeny from '../lib/index.js'
import type { FastifyDefaultDenyOptions, SecurityFinding } from '../fastify-plugin.js'
import { SECRET, testDatabase } from './helper.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface SecuredOptions {
  plugin?: Partial<FastifyDefaultDenyOptions>
  jwt?: FastifyJWTOptions
  server?: FastifyServerOptions
  /** Runs before @fastify/jwt and the plugin are registered. */
  before?: (app: FastifyInstance) => unknown
}

export async function secured (t: Teardown, options: SecuredOptions = {}): Promise<FastifyInstance> {
  const { db, schema } = await testDatabase(t)
  const app = Fastify({ logger: false, ...options.server })
  t.teardown(async () => { await app.close() })
  await options.before?.(app)
  await app.register(jwt, options.jwt ?? { secret: SECRET, verify: { algorithms: ['HS256'] } })
  await app.register(defaultDeny, { db, schema, ...options.plugin })
  return app
}

export const ids = (findings: readonly SecurityFinding[]): string[] => findings.map((finding) => finding.id)

/** NODE_ENV=production for the calling test, restored at its teardown (each test file is its own process). */
export function inProduction (t: Teardown): void {
  const before = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  t.teardown(() => {
    if (before === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = before
  })
}
