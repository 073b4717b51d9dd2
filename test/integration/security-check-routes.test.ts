// The route manifest: every route with what it requires, the plugin's own
// grant routes marked, and the routes the plugin could not see (registered
// before it) found in the router and reported at ready.
import t from 'tap'
import { logCapture } from '../helper.js'
import { ids, secured } from '../security-helper.js'

t.test('the manifest lists every route with what it requires', async (t) => {
  const app = await secured(t, { plugin: { grantRoutes: false } })
  const annotated = { config: { permission: { resource: 'document', privilege: 'read' as const } } }
  app.get('/documents/:id', annotated, async () => 'x')
  app.get('/documents/:docId/pdf', { config: { permission: { resource: 'document', privilege: 'read', param: 'docId' } } }, async () => 'x')
  app.post('/documents', { config: { permission: { resource: 'document', privilege: 'edit', id: false } } }, async () => 'x')
  app.get('/search', { config: { permission: { resource: 'document', privilege: 'read', id: (request) => String(request.query) } } }, async () => 'x')
  app.get('/health', { config: { permission: 'public' } }, async () => 'ok')
  app.get('/me', { config: { permission: 'authenticated' } }, async () => 'me')
  app.delete('/forgotten/:id', async () => 'x')
  app.register(async (child) => { child.put('/inner', { config: { permission: 'authenticated' } }, async () => 'x') }, { prefix: '/scoped' })
  await app.ready()

  const manifest = app.permissions.routeManifest()
  const byRoute = Object.fromEntries(manifest.map((entry) => [`${entry.method} ${entry.url}`, entry]))
  t.same(byRoute['GET /documents/:id'], { method: 'GET', url: '/documents/:id', access: 'resource', resource: 'document', privilege: 'read', idFrom: { param: 'id' }, grantApi: false })
  t.same(byRoute['GET /documents/:docId/pdf']?.idFrom, { param: 'docId' })
  t.same(byRoute['POST /documents']?.idFrom, 'type')
  t.same(byRoute['GET /search']?.idFrom, 'function')
  t.equal(byRoute['GET /health']?.access, 'public')
  t.equal(byRoute['HEAD /health']?.access, 'public', 'HEAD routes are listed too')
  t.equal(byRoute['GET /me']?.access, 'authenticated')
  t.equal(byRoute['DELETE /forgotten/:id']?.access, 'unannotated')
  t.equal(byRoute['PUT /scoped/inner']?.access, 'authenticated', 'routes in child scopes')
  t.same(manifest.map((entry) => `${entry.method} ${entry.url}`), Object.keys(byRoute).sort((a, b) => {
    const [am = '', au = ''] = a.split(' '); const [bm = '', bu = ''] = b.split(' ')
    return au < bu ? -1 : au > bu ? 1 : am < bm ? -1 : am > bm ? 1 : 0
  }), 'sorted by url, then method')

  const findings = await app.permissions.checkSecurity()
  t.ok(ids(findings).includes('routes-unannotated'))
  t.match(findings.find((finding) => finding.id === 'routes-unannotated')?.message, /^1 route\(s\) .*DELETE \/forgotten\/:id$/)
  t.notOk(ids(findings).includes('routes-before-plugin'))
})

t.test('the grant routes are marked as the grant API', async (t) => {
  const app = await secured(t)
  app.get('/permissions-like/:id', { config: { permission: 'authenticated' } }, async () => 'x')
  await app.ready()
  const manifest = app.permissions.routeManifest()
  const grantApi = manifest.filter((entry) => entry.grantApi)
  t.ok(grantApi.length >= 10, `${grantApi.length} grant routes`)
  t.ok(grantApi.every((entry) => entry.url.startsWith('/permissions/') && entry.access === 'authenticated'))
  t.equal(manifest.find((entry) => entry.url === '/permissions-like/:id')?.grantApi, false)
  t.notOk(ids(await app.permissions.checkSecurity()).includes('routes-unannotated'), 'every grant route is annotated')
})

t.test('routes registered before the plugin are found and reported at ready', async (t) => {
  const logs = logCapture('info')
  const app = await secured(t, {
    server: { logger: logs.logger },
    before: (app) => {
      app.get('/early', { config: { permission: 'public' } }, async () => 'x')
      app.register(async (child) => { child.post('/', async () => 'x') }, { prefix: '/early-scope' })
    }
  })
  app.get('/late', { config: { permission: 'public' } }, async () => 'late')
  await app.ready()

  const early = app.permissions.routeManifest().filter((entry) => entry.access === 'before-plugin')
  t.same(early.map((entry) => `${entry.method} ${entry.url}`), ['GET /early', 'HEAD /early', 'POST /early-scope'],
    'each early route once, its prefixed twin (/early-scope/) included in it')
  const warning = logs.lines.find((line) => line.finding === 'routes-before-plugin')
  t.ok(warning, 'a warning at ready, before any request')
  t.equal(warning?.level, 40)
  t.match(warning?.msg, /2 route\(s\) were registered before fastify-default-deny.*GET \/early, POST \/early-scope/)
  t.equal((await app.inject({ url: '/early' })).statusCode, 403, 'and they are still denied')
  t.equal((await app.inject({ url: '/late' })).statusCode, 200)

  const summary = logs.lines.find((line) => String(line.msg).includes('route manifest'))
  t.same(summary?.public, ['GET /late'], 'the manifest summary names the public routes')
  t.equal(summary?.denied, 2)
})

t.test('without early or unannotated routes, no route finding', async (t) => {
  const app = await secured(t, { plugin: { grantRoutes: false } })
  app.get('/health', { config: { permission: 'public' } }, async () => 'ok')
  await app.ready()
  const found = ids(await app.permissions.checkSecurity())
  t.notOk(found.includes('routes-unannotated'))
  t.notOk(found.includes('routes-before-plugin'))
})

t.test('routes the router prints in its own way are still matched to what the plugin saw', async (t) => {
  // Shared parameters print as `:id|:name`, a wildcard under its folder, a
  // regular expression in the parameter, versions on lines of their own.
  for (const server of [{}, { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true } }]) {
    const app = await secured(t, { server, plugin: { grantRoutes: false } })
    const open = { config: { permission: 'public' as const } }
    app.get('/a/:id', open, async () => 'x')
    app.get('/a/:name/x', open, async () => 'x')
    app.get('/r/:id(^\\d+)', open, async () => 'x')
    app.get('/files/*', open, async () => 'x')
    app.get('/Mixed/Case/', open, async () => 'x')
    app.get('/v', { ...open, constraints: { version: '1.0.0' } }, async () => 'x')
    app.get('/v', { ...open, constraints: { version: '2.0.0' } }, async () => 'x')
    app.addHttpMethod('M-SEARCH')
    app.route({ method: ['GET', 'POST', 'M-SEARCH'], url: '/multi', ...open, handler: async () => 'x' })
    app.register(async (child) => { child.get('/', open, async () => 'x') }, { prefix: '/scope' })
    await app.ready()
    const manifest = app.permissions.routeManifest()
    t.same(manifest.filter((entry) => entry.access !== 'public'), [], `every route matched: ${JSON.stringify(server)}`)
    t.ok(manifest.some((entry) => entry.method === 'M-SEARCH' && entry.url === '/multi'))
  }
})
