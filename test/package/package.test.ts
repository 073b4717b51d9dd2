// The package as a user gets it: `npm pack` (prepack cleans and builds dist/),
// what the tarball holds, then a new project that installs it and uses it
// from strict TypeScript (ESM and CommonJS), from plain CommonJS and ESM at
// run time, and through its bin. The project installs offline, from npm's
// cache (which `npm ci` fills): its lockfile is this repository's, cut down
// to what the tarball, fastify, @fastify/jwt, @electric-sql/pglite,
// typescript and @types/node need, so no version is resolved anew.
// Embedded PGlite only: DATABASE_URL is not passed on, so the test is the
// same on both backends.
// test runner: from the sources (it packs this repository: npm pack and the
// package's own build must see the real tree, not the runner's compiled one)
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import t from 'tap'
import { filesUnder, installProject, pack, ROOT, run, type Run } from '../package-helper.js'

// Packing builds the whole package, installing extracts about ninety
// packages, and each check is a process (tsc, PGlite): minutes on a busy machine.
t.setTimeout(600_000)

const work = await mkdtemp(join(tmpdir(), 'fdd-package-'))
t.teardown(() => rm(work, { recursive: true, force: true }))
const unpacked = join(work, 'unpacked', 'package')
const project = join(work, 'project')
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
let tarball = ''
let integrity = ''
let files: string[] = []

t.test('npm pack builds a tarball of the package, and only of it', async (t) => {
  const packed = await pack(work)
  tarball = packed.tarball
  integrity = packed.integrity
  await mkdir(dirname(unpacked), { recursive: true })
  const untar = await run('tar', ['-xzf', tarball, '-C', dirname(unpacked)], work)
  t.equal(untar.code, 0, untar.stderr)
  files = await filesUnder(unpacked)
  const has = new Set(files)

  const migrations = (await readdir(join(ROOT, 'migrations'))).filter((name) => name.endsWith('.ts'))
  const sql = await readdir(join(ROOT, 'sql'))
  const wanted = [
    'package.json', 'README.md', 'LICENSE', 'fastify-plugin.d.ts', 'dist/fastify-plugin.d.ts',
    'dist/lib/index.js', 'dist/lib/store/pglite.js', 'dist/lib/store/pglite.d.ts', 'dist/bin/cli.js',
    'dist/lib/testing/index.js', 'dist/lib/testing/index.d.ts', 'schema/policy-test.schema.json',
    ...migrations.map((name) => `dist/migrations/${name.replace(/\.ts$/, '.js')}`),
    ...sql.map((name) => `sql/${name}`),
    // The admin page, built at prepack: nothing is built at the host's run time.
    ...['index.html', 'app.js', 'app.css', 'icon.svg'].map((name) => `dist/admin-ui/${name}`)
  ]
  for (const file of wanted) t.ok(has.has(file), `ships ${file}`)
  t.ok(sql.length > 0 && migrations.length > 1, 'the repository has SQL files and migrations to ship')
  // Every file package.json names: main, types, bin, each export's and typesVersions' targets.
  const targets = (value: unknown): string[] => typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.values(value).flatMap(targets) : []
  for (const path of targets([pkg.main, pkg.types, pkg.bin, pkg.exports, pkg.typesVersions])) t.ok(has.has(posix.normalize(path)), `ships ${path}, which package.json names`)

  const stray = files.filter((file) => /^(test|bench|examples|scripts|lib|bin|migrations|\.ci|node_modules|dist\/(test|bench|examples))\//.test(file) ||
    (file.endsWith('.ts') && !file.endsWith('.d.ts')) || file.endsWith('.tgz') || (file.startsWith('dist/bin/') && !file.endsWith('.js')))
  t.same(stray, [], 'no tests, benchmarks, examples, TypeScript sources or bin declarations')
  // Nothing left over from an older build: each compiled file has its source.
  const orphans: string[] = []
  for (const file of files.filter((file) => file.startsWith('dist/') && !file.startsWith('dist/admin-ui/') && file.endsWith('.js'))) {
    if (!await stat(join(ROOT, file.slice('dist/'.length).replace(/\.js$/, '.ts'))).then(() => true, () => false)) orphans.push(file)
  }
  t.same(orphans, [], 'every dist/ file is built from a source of today')
  t.same(files.filter((file) => file.startsWith('dist/admin-ui/')).sort(), ['dist/admin-ui/app.css', 'dist/admin-ui/app.js', 'dist/admin-ui/icon.svg', 'dist/admin-ui/index.html'], 'the admin page is its four files, no source map')

  // A source map may only point at files the tarball holds.
  const dangling: string[] = []
  for (const file of files.filter((file) => /\.(js|d\.ts)$/.test(file))) {
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(await readFile(join(unpacked, file), 'utf8'))?.[1]
    if (url !== undefined && !url.startsWith('data:') && !has.has(posix.join(posix.dirname(file), url))) dangling.push(`${file} → ${url}`)
  }
  for (const file of files.filter((file) => file.endsWith('.map'))) {
    const map = JSON.parse(await readFile(join(unpacked, file), 'utf8')) as { sources?: string[], sourceRoot?: string }
    for (const source of map.sources ?? []) {
      const path = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source))
      if (!has.has(path)) dangling.push(`${file} → ${source}`)
    }
  }
  t.same(dangling, [], 'no source map refers to a file that is not in the tarball')
  t.ok((await readFile(join(unpacked, 'dist/bin/cli.js'), 'utf8')).startsWith('#!/usr/bin/env node\n'), 'the bin keeps its shebang')
})

t.test('a new project installs the tarball offline', async (t) => {
  if (tarball === '') throw new Error('no tarball')
  await installProject(project, { tarball, integrity }, ['fastify', '@fastify/jwt', '@electric-sql/pglite', 'typescript', '@types/node'])
  const bin = join(project, 'node_modules/fastify-default-deny/dist/bin/cli.js')
  t.ok(((await stat(bin)).mode & 0o111) !== 0, 'the installed bin is executable')
  t.same((await filesUnder(join(project, 'node_modules/fastify-default-deny'))).sort(), [...files].sort(), 'installed as packed')
})

const SECRET = 'a-secret-long-enough-for-hs256-0123456789abcdef'
const REGISTER = `await app.register(jwt, { secret: '${SECRET}', verify: { algorithms: ['HS256'] } })
await app.register(defaultDeny, { db })
app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: (request.params as { id: string }).id, by: request.principal?.id ?? null }))
app.get('/health', { config: { permission: 'public' } }, async () => ({ ok: true }))
await app.ready()
await app.permissions.grant({ grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '42', privilege: 'read' })
const authorization = \`Bearer \${app.jwt.sign({ sub: 'alice' })}\`
const allowed = await app.inject({ url: '/documents/42', headers: { authorization } })
const denied = await app.inject({ url: '/documents/43', headers: { authorization } })
await app.close()
await db.destroy()
console.log(JSON.stringify({ allowed: [allowed.statusCode, allowed.json()], denied: [denied.statusCode, denied.json().code], code: new codes.FST_DEFAULT_DENY_FORBIDDEN().code }))
`
const plainJs = (source: string): string => source.replace(' as { id: string }', '')
const SOURCES: Record<string, string> = {
  'app.mts': `import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import defaultDeny, { codes, runMigrations, postgresKysely, type Principal, type FastifyDefaultDenyOptions } from 'fastify-default-deny'
export async function build (db = postgresKysely('postgres://localhost/app')): Promise<string[]> {
  const options: FastifyDefaultDenyOptions = { db, schema: 'authz' }
  const app = Fastify()
  await app.register(jwt, { secret: '${SECRET}' })
  await app.register(defaultDeny, options)
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => {
    const principal: Principal | null = request.principal
    return principal?.id ?? new codes.FST_DEFAULT_DENY_FORBIDDEN().code
  })
  return await runMigrations(db, { schema: 'authz' })
}
`,
  'app.cts': `import Fastify from 'fastify'
import defaultDeny, { postgresKysely } from 'fastify-default-deny'
export async function build (): Promise<void> {
  const app = Fastify()
  await app.register(defaultDeny, { db: postgresKysely('postgres://localhost/app') })
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'edit', param: 'id' } } }, async () => 'ok')
}
`,
  'typo.mts': `import Fastify from 'fastify'
import defaultDeny from 'fastify-default-deny'
const app = Fastify()
await app.register(defaultDeny, { connectionString: 'postgres://localhost/app' })
app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'wirte' } } }, async () => 'ok')
`,
  'pglite.mts': `import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import defaultDeny, { codes } from 'fastify-default-deny'
import { createPGliteKysely } from 'fastify-default-deny/pglite'
const db = await createPGliteKysely()
const app = Fastify()
${REGISTER}`,
  'pglite.cts': `import { createPGliteKysely, DEFAULT_PGLITE_DIR } from 'fastify-default-deny/pglite'
export const open = async (): Promise<string> => { await (await createPGliteKysely(DEFAULT_PGLITE_DIR)).destroy(); return DEFAULT_PGLITE_DIR }
`,
  'app.cjs': `'use strict'
const Fastify = require('fastify')
const jwt = require('@fastify/jwt')
const { default: defaultDeny, codes } = require('fastify-default-deny')
const { createPGliteKysely } = require('fastify-default-deny/pglite')
async function main () {
const db = await createPGliteKysely()
const app = Fastify()
${plainJs(REGISTER)}}
main().catch((err) => { console.error(err); process.exitCode = 1 })
`
}
// The README's common lines, as a host writes them: environment variables
// straight into the options and the signed-in user without assertions.
SOURCES['readme.mts'] = `import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import defaultDeny, { requireUser } from 'fastify-default-deny'
import { createPGliteKysely } from 'fastify-default-deny/pglite'
const app = Fastify()
await app.register(jwt, { secret: process.env.JWT_SECRET ?? '${SECRET}', verify: { algorithms: ['HS256'] } })
await app.register(defaultDeny, { connectionString: process.env.DATABASE_URL, schema: process.env.AUTHZ_SCHEMA })
await app.register(defaultDeny, { db: await createPGliteKysely('.data/pglite') })
app.get('/me', { config: { permission: 'authenticated' } }, async (request) => {
  const id: string = requireUser(request).id
  return { id }
})
`
SOURCES['app.mjs'] = plainJs(SOURCES['pglite.mts'] as string)
// The admin page, served from the installed package's files.
SOURCES['admin.mjs'] = `import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import defaultDeny from 'fastify-default-deny'
import { createPGliteKysely } from 'fastify-default-deny/pglite'
const db = await createPGliteKysely()
const app = Fastify()
await app.register(jwt, { secret: '${SECRET}', verify: { algorithms: ['HS256'] } })
await app.register(defaultDeny, { db, adminPage: { prefix: '/permissions/ui' } })
const page = await app.inject({ url: '/permissions/ui/' })
const script = await app.inject({ url: '/permissions/ui/app.js' })
const config = await app.inject({ url: '/permissions/ui/config.json' })
await app.close()
await db.destroy()
console.log(JSON.stringify({ page: [page.statusCode, page.headers['content-type'], page.body.includes('src="/permissions/ui/app.js"')], script: [script.statusCode, script.headers['content-type'], script.body.length > 1000], csp: page.headers['content-security-policy'].startsWith("default-src 'none'"), api: config.json().api }))
`
// The type check and the two runs are independent processes: started together.
let checks: Promise<{ tsc: Run, cjs: Run, mjs: Run, admin: Run }> | undefined
t.test('strict TypeScript, from ESM and from CommonJS', async (t) => {
  for (const [name, text] of Object.entries(SOURCES)) await writeFile(join(project, name), text)
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'], skipLibCheck: false, noEmit: true },
    files: ['app.mts', 'app.cts', 'typo.mts', 'pglite.mts', 'pglite.cts', 'readme.mts']
  }))
  const node = (...args: string[]): Promise<Run> => run(process.execPath, args, project)
  const started = Promise.all([node('node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'), node('app.cjs'), node('app.mjs'), node('admin.mjs')])
  checks = started.then(([tsc, cjs, mjs, admin]) => ({ tsc, cjs, mjs, admin }))
  const { tsc } = await checks
  t.not(tsc.code, 0, 'a misspelt privilege does not compile')
  t.match(tsc.stdout, /^typo\.mts\(5,\d+\): error TS2322: Type '"wirte"'/m)
  // @electric-sql/pglite's declarations use Emscripten's types without
  // depending on @types/emscripten: with skipLibCheck off, they fail too.
  const wrong = [...new Set([...tsc.stdout.matchAll(/^(\S[^(\n]*)\(\d+,\d+\): error/gm)].map((m) => m[1] as string))]
  const ours = wrong.filter((file) => !file.startsWith('node_modules/@electric-sql/pglite/'))
  t.same(ours, ['typo.mts'], ours.length === 1 ? 'nothing else is wrong: the plugin and fastify-default-deny/pglite type-check, skipLibCheck off' : tsc.stdout)
})

const expected = { allowed: [200, { id: '42', by: 'alice' }], denied: [403, 'FST_DEFAULT_DENY_FORBIDDEN'], code: 'FST_DEFAULT_DENY_FORBIDDEN' }
for (const file of ['cjs', 'mjs'] as const) {
  t.test(`${file === 'cjs' ? 'require()' : 'import'} of the package, on PGlite: a grant allows, its absence denies`, async (t) => {
    if (checks === undefined) throw new Error('not run')
    const ran = (await checks)[file]
    t.equal(ran.code, 0, ran.stderr)
    t.same(JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? 'null'), expected)
    t.notMatch(ran.stderr, /ERR_REQUIRE|Error/, 'no error on standard error')
  })
}

t.test('the admin page, served from the installed package', async (t) => {
  if (checks === undefined) throw new Error('not run')
  const { admin } = await checks
  t.equal(admin.code, 0, admin.stderr)
  t.same(JSON.parse(admin.stdout.trim().split('\n').at(-1) ?? 'null'), {
    page: [200, 'text/html; charset=utf-8', true], script: [200, 'text/javascript; charset=utf-8', true], csp: true, api: '/permissions'
  })
})

t.test('the bin, through npx', async (t) => {
  const npx = (...args: string[]): Promise<Run> => run('npx', ['--no', '--', 'fastify-default-deny', ...args], project, { PGLITE_DIR: join(work, 'pglite') })
  const help = await npx('--help')
  t.equal(help.code, 0, help.stderr)
  t.match(help.stdout, /^Usage: fastify-default-deny /)
  const migrations = (await readdir(join(ROOT, 'migrations'))).filter((name) => /^\d+_.*\.ts$/.test(name)).map((name) => name.replace(/\.ts$/, '')).sort()
  const up = await npx('migrate', 'up')
  t.equal(up.code, 0, up.stderr)
  const status = await npx('migrate', 'status', '--json')
  t.equal(status.code, 0, status.stderr)
  const json = JSON.parse(status.stdout) as { migrations: Array<{ name: string, executedAt: string | null }>, pending: string[] }
  t.same(json.migrations.map((m) => m.name), migrations, 'status lists every migration')
  t.ok(json.migrations.every((m) => m.executedAt !== null), 'each applied')
  t.same(json.pending, [], 'none pending')
})
