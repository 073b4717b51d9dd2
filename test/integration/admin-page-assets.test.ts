// The admin page's files: off by default, public when on, served from
// memory with a strict Content-Security-Policy and the other headers on
// every answer under the prefix, 404s included; the option refused when
// malformed. The default-deny hook still covers everything else.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadAssets } from '../../lib/admin/assets.js'
import { build, readyWith } from '../helper.js'

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

function headersOf (t: Test, headers: Record<string, unknown>, what: string) {
  t.equal(headers['content-security-policy'], CSP, `${what}: strict CSP`)
  t.equal(headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
  t.equal(headers['referrer-policy'], 'no-referrer', `${what}: no referrer`)
  t.equal(headers['x-frame-options'], 'DENY', `${what}: never framed`)
}

t.test('off by default: nothing is served under the page\'s prefix', async (t) => {
  const { app } = await build(t)
  for (const url of ['/permissions/ui', '/permissions/ui/', '/permissions/ui/app.js', '/permissions/ui/config.json']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.notOk(res.headers['content-security-policy'], `${url}: not the page's answer`)
  }
})

t.test('on: the page and its files, public, with their types and headers', async (t) => {
  const { app, as } = await build(t, { adminPage: { prefix: '/permissions/ui' } })
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'secret')
  app.get('/forgotten', async () => 'never')
  await app.ready()

  for (const url of ['/permissions/ui', '/permissions/ui/']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, `${url} without a token`)
    t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    t.equal(res.headers['cache-control'], 'no-cache')
    headersOf(t, res.headers, url)
    // No inline script or style: every script has a src, no style element or attribute, no handler attribute.
    t.same([...res.body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]), ['<script src="/permissions/ui/app.js" defer>'], 'one script, by URL')
    t.notMatch(res.body, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler')
    t.match(res.body, 'href="/permissions/ui/app.css"')
    t.match(res.body, 'data-base="/permissions/ui"')
  }
  const types: Record<string, string> = {
    'app.js': 'text/javascript; charset=utf-8',
    'app.css': 'text/css; charset=utf-8',
    'icon.svg': 'image/svg+xml',
    'config.json': 'application/json; charset=utf-8'
  }
  for (const [name, type] of Object.entries(types)) {
    const res = await app.inject({ url: `/permissions/ui/${name}` })
    t.equal(res.statusCode, 200, name)
    t.equal(res.headers['content-type'], type, `${name}: ${type}`)
    headersOf(t, res.headers, name)
    t.ok(res.body.length > 0, `${name} is not empty`)
    const again = await app.inject({ url: `/permissions/ui/${name}`, headers: { 'if-none-match': res.headers.etag as string } })
    t.equal(again.statusCode, 304, `${name}: revalidated by its etag`)
    t.equal((await app.inject({ method: 'HEAD', url: `/permissions/ui/${name}` })).statusCode, 200, `HEAD ${name}`)
  }
  t.notMatch((await app.inject({ url: '/permissions/ui/app.js' })).body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/, 'the bundle has no HTML sink')
  t.same((await app.inject({ url: '/permissions/ui/config.json' })).json(), {
    api: '/permissions', tokenUrl: null, privileges: ['read', 'edit', 'delete', 'manage'], anonymousPrivileges: ['read'], groups: true, hierarchy: false
  })

  for (const url of ['/permissions/ui/nope', '/permissions/ui/app.js.map', '/permissions/ui/index.html', '/permissions/ui/index.html/x']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, `${url}: 404`)
    headersOf(t, res.headers, url)
  }
  // Files are named, never looked up on disk: a path that leaves the prefix is someone else's 404.
  for (const url of ['/permissions/ui/../lib/index.ts', '/permissions/ui/%2e%2e/package.json', '/permissions/ui/..%2f..%2fpackage.json']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, `${url}: 404`)
    t.notMatch(res.body, /fastify-default-deny|import /, `${url}: no file's contents`)
  }

  // The page opens nothing else: the API, the protected routes and unannotated ones are as before.
  t.equal((await app.inject({ url: '/permissions/document/d1/grants' })).statusCode, 401, 'the grant API still needs a token')
  t.equal((await app.inject({ url: '/documents/d1', headers: as('carol') })).statusCode, 403, 'a resource route still needs a grant')
  t.equal((await app.inject({ url: '/forgotten', headers: as('carol') })).statusCode, 403, 'an unannotated route is still denied')
  const manifest = app.permissions.routeManifest().filter((entry) => entry.url.startsWith('/permissions/ui'))
  t.ok(manifest.length >= 6 && manifest.every((entry) => entry.access === 'public'), 'the page\'s routes are public in the manifest')
})

t.test('the prefix follows the grant routes\' by default; tokenUrl is passed to the page', async (t) => {
  const { app } = await build(t, { grantRoutes: { prefix: '/authz' }, adminPage: { tokenUrl: '/session/token' }, privileges: ['read', 'publish'], groupDepth: 0 })
  const page = await app.inject({ url: '/authz/ui/' })
  t.equal(page.statusCode, 200)
  t.match(page.body, 'src="/authz/ui/app.js"')
  t.same((await app.inject({ url: '/authz/ui/config.json' })).json(), {
    api: '/authz', tokenUrl: '/session/token', privileges: ['read', 'publish', 'manage'], anonymousPrivileges: ['read'], groups: false, hierarchy: false
  })
})

t.test('a malformed adminPage option is refused at registration, naming it', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ adminPage: true }, /option 'adminPage' must be false or \{ prefix, tokenUrl \}/],
    [{ adminPage: '/ui' }, /option 'adminPage' must be false/],
    [{ adminPage: { prefix: '/ui', theme: 'dark' } }, /option 'adminPage' has unknown key 'theme'/],
    [{ adminPage: { prefix: 'ui' } }, /option 'adminPage.prefix' must look like '\/permissions\/ui'/],
    [{ adminPage: { prefix: '/ui/' } }, /option 'adminPage.prefix'/],
    [{ adminPage: { prefix: '/a//b' } }, /option 'adminPage.prefix'/],
    [{ adminPage: { prefix: '/a b' } }, /option 'adminPage.prefix'/],
    [{ adminPage: { prefix: '/permissions' } }, /option 'adminPage.prefix' must differ from the grant routes' prefix/],
    [{ adminPage: { tokenUrl: 'https://elsewhere.example/token' } }, /option 'adminPage.tokenUrl' must be a path on the same origin/],
    [{ adminPage: { tokenUrl: '//elsewhere.example/token' } }, /option 'adminPage.tokenUrl'/],
    [{ adminPage: { tokenUrl: '/\\elsewhere.example' } }, /option 'adminPage.tokenUrl'/],
    [{ adminPage: { tokenUrl: '/token\n' } }, /option 'adminPage.tokenUrl'/],
    [{ adminPage: { tokenUrl: 42 } }, /option 'adminPage.tokenUrl'/],
    [{ adminPage: { prefix: '/ui' }, grantRoutes: false }, /option 'adminPage' needs the grant routes, which 'grantRoutes: false' turns off/]
  ]
  for (const [options, message] of cases) {
    await t.rejects(readyWith(t, options), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message }, JSON.stringify(options))
  }
  await t.resolves(readyWith(t, { adminPage: false, grantRoutes: false }), 'adminPage: false goes with grantRoutes: false')
})

t.test('a page that was never built stops the start-up and says how to build it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fdd-admin-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  t.throws(() => loadAssets('/ui', {}, `${dir}/`), { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /app\.js|index\.html|app\.css|icon\.svg/ })
  t.throws(() => loadAssets('/ui', {}, `${dir}/`), { message: /run 'npm run build:ui'/ })
  for (const name of ['index.html', 'app.js', 'app.css', 'icon.svg']) await writeFile(join(dir, name), name === 'index.html' ? '<p>%PREFIX%/x %PREFIX%</p>' : name)
  const assets = loadAssets('/p/ui', { api: '/p' }, `${dir}/`)
  t.equal(assets.get('index.html')?.body.toString(), '<p>/p/ui/x /p/ui</p>', 'every placeholder is the prefix')
  t.same(JSON.parse(assets.get('config.json')?.body.toString() ?? ''), { api: '/p' })
})
