// migrate up|down|status from the command line, and what a wrong database URL says.
import t from 'tap'
import { migrations } from '../../migrations/index.js'
import { cliWorld, runCli } from '../cli-helper.js'
import { usingPostgres } from '../helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

const ALL = Object.keys(migrations).sort()
const LAST = ALL[ALL.length - 1] as string

t.test('up, status, down, status, up again; --json parsed', async (t) => {
  const { cli, database } = await cliWorld(t, { migrate: false })
  const fresh = await cli('migrate', 'status', '--json')
  t.equal(fresh.code, 0, fresh.stderr)
  t.same(fresh.json.pending, ALL, 'a fresh schema has every migration pending')

  const up = await cli('migrate', 'up')
  t.equal(up.code, 0, up.stderr)
  t.equal(up.stdout.trim(), `applied: ${ALL.join(', ')}`)
  const again = await cli('migrate', 'up', '--json')
  t.same(again.json, { database, applied: [] }, 'a second run does nothing')

  const status = await cli('migrate', 'status')
  t.match(status.stdout, /up to date/)
  t.match(status.stdout, new RegExp(`applied \\d{4}-\\d{2}-\\d{2}T[^ ]+  ${LAST}`))

  const down = await cli('--json', 'migrate', 'down')
  t.same([down.json.database, down.json.reverted], [database, [LAST]], '--json before the command works too')
  const after = await cli('migrate', 'status', '--json')
  t.same(after.json.pending, [LAST])
  t.equal(after.json.migrations.length, ALL.length)
  t.equal((await cli('migrate', 'up')).stdout.trim(), `applied: ${LAST}`)
})

t.test('usage errors exit 2 and change nothing', async (t) => {
  const { cli } = await cliWorld(t, { migrate: false })
  const sideways = await cli('migrate', 'sideways')
  t.equal(sideways.code, 2)
  t.match(sideways.stderr, /unknown command 'sideways'/)
  const bare = await cli('migrate')
  t.equal(bare.code, 2, 'migrate alone only shows its help: it never changes a schema by default')
  t.match(bare.stderr, /Usage: fastify-default-deny migrate/)
  const option = await cli('migrate', 'up', '--bogus')
  t.equal(option.code, 2)
  t.match(option.stderr, /unknown option '--bogus'/)
  const schema = await runCli(['migrate', 'up', '--schema', 'no such schema'], process.env)
  t.equal(schema.code, 2)
  t.match(schema.stderr, /--schema: 'no such schema' is not a schema name/)
  const status = await cli('migrate', 'status', '--json')
  t.same(status.json.pending, ALL, 'nothing was applied')
})

t.test('a wrong database URL says why, and exits 1', async (t) => {
  const refused = await runCli(['migrate', 'up', '--json'], { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /migration failed: .*ECONNREFUSED 127\.0\.0\.1:1/)
  t.equal(refused.json.error.exitCode, 1)
  t.match(refused.json.error.message, /ECONNREFUSED/)
})

t.test('a database the server does not have says so, and exits 1', { skip: !usingPostgres && 'needs PostgreSQL: a server to ask for a database it does not have' }, async (t) => {
  const url = new URL(process.env.DATABASE_URL as string)
  url.pathname = '/dd_no_such_database'
  const missing = await runCli(['migrate', 'status'], { ...process.env, DATABASE_URL: url.href })
  t.equal(missing.code, 1)
  t.match(missing.stderr, /database "dd_no_such_database" does not exist/)
})

t.test('npm run migrate is the same command, with --help', async (t) => {
  const help = await new Promise<{ code: number, stdout: string }>((resolve) => {
    import('node:child_process').then(({ execFile }) => {
      execFile('npm', ['run', '--silent', 'migrate', '--', '--help'], { cwd: new URL('../..', import.meta.url) }, (err, stdout) => {
        resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout })
      })
    }, () => resolve({ code: -1, stdout: '' }))
  })
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: fastify-default-deny migrate/)
  t.match(help.stdout, /status/)
})
