// The tool never guesses a database: it names the one it opened, creates an
// embedded one only for `migrate up`, and refuses a DATABASE_URL the plugin
// would refuse, never printing a password.
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { childEnv, runCli } from '../cli-helper.js'

// Each command opens PGlite afresh (most of a second, more on a busy machine).
t.setTimeout(240_000)

interface Teardown { teardown: (fn: () => unknown) => void }

async function scratch (t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dd-cli-db-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const embedded = (dir: string): NodeJS.ProcessEnv => ({ ...childEnv(), PGLITE_DIR: dir, DATABASE_URL: '' })

t.test('on a missing embedded database every command but migrate up fails naming the path, and creates nothing', async (t) => {
  const dir = join(await scratch(t), 'pglite')
  for (const args of [['list', 'group', 'd01'], ['migrate', 'status'], ['migrate', 'down'], ['verify-audit']]) {
    const out = await runCli(args, embedded(dir))
    t.equal(out.code, 1, `${args.join(' ')}: exit 1`)
    t.equal(out.stderr, `fastify-default-deny: no embedded database in ${dir}: create it with 'fastify-default-deny migrate up', or point PGLITE_DIR (or DATABASE_URL) at your database\n`)
    t.notOk(existsSync(dir), `${args.join(' ')}: the directory was not created`)
  }
  const json = await runCli(['list', 'group', 'd01', '--json'], embedded(dir))
  t.match(json.json, { error: { exitCode: 1, code: 'no-database', message: new RegExp(`no embedded database in ${dir}`) } })
  t.notOk(existsSync(dir))

  // An empty directory holds no database either, and stays empty.
  await mkdir(dir)
  t.equal((await runCli(['list', 'group', 'd01'], embedded(dir))).code, 1)
  t.same(await readdir(dir), [])
})

t.test('migrate up creates it; then every command names it, in words and in JSON', async (t) => {
  const dir = join(await scratch(t), 'pglite')
  const up = await runCli(['migrate', 'up'], embedded(dir))
  t.equal(up.code, 0, up.stderr)
  t.equal(up.stderr, `database: embedded ${dir}\n`, 'on standard error, not in the result')
  t.match(up.stdout, /^applied: /)
  const list = await runCli(['list', 'group', 'd01', '--json'], embedded(dir))
  t.equal(list.code, 0, list.stderr)
  t.same(list.json, { database: `embedded ${dir}`, resource: 'group', id: 'd01', owner: null, grants: [] })
  t.equal(list.stderr, '', 'with --json the name is in the document only')
})

t.test('a DATABASE_URL the plugin would refuse is refused, and no password is ever printed', async (t) => {
  const dir = join(await scratch(t), 'pglite')
  const mysql = await runCli(['list', 'group', 'd01', '--json'], { ...embedded(dir), DATABASE_URL: 'mysql://ops:hunter2@db.internal/app' })
  t.equal(mysql.code, 2, 'a usage error')
  t.equal(mysql.json.error.message, "DATABASE_URL: option 'connectionString' must be a postgres:// or postgresql:// URL")
  t.notMatch(mysql.stdout + mysql.stderr, /hunter2/)
  t.notOk(existsSync(dir), 'and no embedded database was made instead')

  const refused = await runCli(['list', 'group', 'd01'], { ...embedded(dir), DATABASE_URL: 'postgres://ops:hunter2@127.0.0.1:1/app?password=hunter2&sslmode=disable' })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /^database: postgres:\/\/ops@127\.0\.0\.1:1\/app\n/, 'named without its password or parameters')
  t.match(refused.stderr, /ECONNREFUSED/)
  t.notMatch(refused.stdout + refused.stderr, /hunter2/)
  const json = await runCli(['list', 'group', 'd01', '--json'], { ...embedded(dir), DATABASE_URL: 'postgresql://ops:hunter2@127.0.0.1:1/app' })
  t.equal(json.json.database, 'postgresql://ops@127.0.0.1:1/app', 'in JSON too, errors included')
  t.notMatch(json.stdout + json.stderr, /hunter2/)
})
