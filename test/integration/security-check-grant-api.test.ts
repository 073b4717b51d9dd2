// The grant API's surroundings: a rate limit in front of it, and someone
// who can recover access when every manager of a resource is gone.
// @fastify/rate-limit is not a dependency of this project: a stand-in
// plugin registered under its name shows what the check looks for (the
// name Fastify records, and when it was registered).
import t from 'tap'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ids, secured } from '../security-helper.js'

const rateLimit = fp(async (app: FastifyInstance) => { app.decorate('rateLimit', () => {}) }, { fastify: '5.x', name: '@fastify/rate-limit' })
const API_FINDINGS = ['grant-api-no-rate-limit', 'no-superuser']
const apiFindings = async (app: FastifyInstance) => ids(await app.permissions.checkSecurity()).filter((id) => API_FINDINGS.includes(id))

t.test('the grant API without a rate limit', async (t) => {
  const app = await secured(t, { plugin: { superuserClaim: 'admin' } })
  await app.ready()
  const findings = await app.permissions.checkSecurity()
  t.same(ids(findings).filter((id) => API_FINDINGS.includes(id)), ['grant-api-no-rate-limit'])
  t.match(findings.find((finding) => finding.id === 'grant-api-no-rate-limit'), { level: 'warning', message: /no rate limit/, hint: /@fastify\/rate-limit before/ })
})

t.test('@fastify/rate-limit registered before the plugin: no finding', async (t) => {
  const app = await secured(t, { plugin: { superuserClaim: 'admin' }, before: async (app) => { await app.register(rateLimit) } })
  await app.ready()
  t.same(await apiFindings(app), [])
})

t.test('@fastify/rate-limit registered after the plugin never saw the grant routes', async (t) => {
  const app = await secured(t, { plugin: { superuserClaim: 'admin' } })
  await app.register(rateLimit)
  await app.ready()
  const findings = await app.permissions.checkSecurity()
  t.same(ids(findings).filter((id) => API_FINDINGS.includes(id)), ['grant-api-no-rate-limit'])
  t.match(findings.find((finding) => finding.id === 'grant-api-no-rate-limit')?.message, /registered after fastify-default-deny/)
})

t.test('without the grant API, no rate limit is needed', async (t) => {
  const app = await secured(t, { plugin: { superuserClaim: 'admin', grantRoutes: false } })
  await app.ready()
  t.same(await apiFindings(app), [])
})

t.test('no superuser able to recover access', async (t) => {
  const none = await secured(t, { plugin: { grantRoutes: false } })
  await none.ready()
  t.same(await apiFindings(none), ['no-superuser'], 'superuserClaim false and no resolvePrincipal')

  const resolver = await secured(t, {
    plugin: { grantRoutes: false, resolvePrincipal: (_request, claims) => ({ id: String(claims.sub), groups: [], superuser: claims.sub === 'root' }) }
  })
  await resolver.ready()
  t.same(await apiFindings(resolver), [], 'a resolvePrincipal can make superusers')
})
