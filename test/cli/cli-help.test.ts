// --help on every command: exit 0, its usage on stdout, no database opened.
// The bin entry runs from dist with a shebang; --version finds the package's
// version from there and from the sources.
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { packageVersion } from '../../bin/commands/version.js'
import { childEnv, ROOT, runCli } from '../cli-helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

const COMMANDS = [
  [], ['migrate'], ['migrate', 'up'], ['migrate', 'down'], ['migrate', 'status'],
  ['grant'], ['revoke'], ['list'], ['explain'],
  ['members'], ['members', 'add'], ['members', 'remove'], ['members', 'list'], ['members', 'of'],
  ['purge-expired'], ['import'], ['export'], ['audit'], ['verify-audit'], ['check'], ['test'], ['browse'], ['access']
]

t.test('--help for every command', async (t) => {
  const env = { ...process.env, PGLITE_DIR: join(ROOT, '.data', `never-${process.pid}`), DATABASE_URL: '' }
  // Two at a time: the machine has two cores.
  for (let i = 0; i < COMMANDS.length; i += 2) {
    await Promise.all(COMMANDS.slice(i, i + 2).map(async (command) => {
      const out = await runCli([...command, '--help'], env)
      const name = ['fastify-default-deny', ...command].join(' ')
      t.equal(out.code, 0, `${name} --help exits 0`)
      t.match(out.stdout, `Usage: ${name}`, `${name} --help prints its usage`)
      t.equal(out.stderr, '', `${name} --help prints nothing else`)
    }))
  }
  const top = await runCli(['--help'], env)
  for (const command of ['migrate', 'grant', 'revoke', 'list', 'explain', 'members', 'purge-expired', 'import', 'export', 'audit', 'verify-audit', 'check', 'test', 'browse', 'access']) {
    t.match(top.stdout, new RegExp(`^  ${command}\\b`, 'm'), `the top help lists ${command}`)
  }
  t.match(top.stdout, /Exit codes:\n {2}0 {2}done\n {2}1 {2}failure/)
  t.match(top.stdout, /^ {2}5 {2}verify-audit: the audit trail's hash chain is broken/m, 'exit code 5 is documented')
  t.notOk(existsSync(env.PGLITE_DIR), 'help opens no database')
})

t.test('the bin entry: dist/bin/cli.js, with a shebang', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  t.same(pkg.bin, { 'fastify-default-deny': './dist/bin/cli.js' })
  t.ok((await readFile(join(ROOT, 'bin', 'cli.ts'), 'utf8')).startsWith('#!/usr/bin/env node\n'))
  t.match(pkg.scripts.migrate, /bin\/cli\.ts migrate$/)
})

t.test('--version: the package.json version, without a database', async (t) => {
  const env = { ...process.env, PGLITE_DIR: join(ROOT, '.data', `never-${process.pid}`), DATABASE_URL: '' }
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  for (const flag of ['--version', '-V']) {
    // From the sources (bin/commands/version.ts), as the header says; the installed layout is the next test's.
    const out = await runCli([flag], env)
    t.equal(out.code, 0, `${flag} exits 0`)
    t.equal(out.stdout, `${version}\n`, `${flag} prints the version`)
  }
  t.notOk(existsSync(env.PGLITE_DIR), '--version opens no database')
})

t.test('the executable: its output and exit status, as a process', async (t) => {
  const env = { ...childEnv(), PGLITE_DIR: join(ROOT, '.data', `never-${process.pid}`), DATABASE_URL: '' }
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  const asked = await runCli(['--version'], env, undefined, { process: true })
  t.same([asked.code, asked.stdout, asked.stderr], [0, `${version}\n`, ''], '--version exits 0, printing the version')
  const usage = await runCli(['grant', 'user:alice'], env, undefined, { process: true })
  t.equal(usage.code, 2, 'a usage error exits 2')
  t.match(usage.stderr, /missing required argument/)
  t.equal(usage.stdout, '')
  const missing = await runCli(['list', 'document', 'd01', '--json'], env, undefined, { process: true })
  t.equal(missing.code, 1, 'a failure exits 1')
  t.match(missing.json, { error: { exitCode: 1, message: /no embedded database in / } }, 'and says why, in JSON with --json')
  t.notOk(existsSync(env.PGLITE_DIR), 'nothing was created')
})

t.test('--version in an installed package: dist/bin, another package.json on the way', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'dd-version-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const installed = join(root, 'node_modules', 'fastify-default-deny')
  await mkdir(join(installed, 'dist', 'bin', 'commands'), { recursive: true })
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'the-app', version: '9.9.9' }))
  await writeFile(join(installed, 'package.json'), JSON.stringify({ name: 'fastify-default-deny', version: '1.2.3' }))
  // A build may leave a package.json that only sets the module type.
  await writeFile(join(installed, 'dist', 'package.json'), JSON.stringify({ type: 'module' }))
  t.equal(packageVersion(pathToFileURL(join(installed, 'dist', 'bin', 'commands', 'version.js'))), '1.2.3')
  t.equal(packageVersion(pathToFileURL(join(root, 'elsewhere', 'cli.js'))), 'unknown', 'not inside the package: no version of another one')
})
