// --help on every command: exit 0, its usage on stdout, no database opened.
// The bin entry runs from dist with a shebang.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, runCli } from './cli-helper.js'

// Each command is a process of its own that opens the database (seconds on
// PGlite, more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

const COMMANDS = [
  [], ['migrate'], ['migrate', 'up'], ['migrate', 'down'], ['migrate', 'status'],
  ['grant'], ['revoke'], ['list'], ['explain'],
  ['members'], ['members', 'add'], ['members', 'remove'], ['members', 'list'], ['members', 'of'],
  ['purge-expired'], ['import'], ['export'], ['check']
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
  for (const command of ['migrate', 'grant', 'revoke', 'list', 'explain', 'members', 'purge-expired', 'import', 'export', 'check']) {
    t.match(top.stdout, new RegExp(`^  ${command}\\b`, 'm'), `the top help lists ${command}`)
  }
  t.match(top.stdout, /Exit codes:\n {2}0 {2}done\n {2}1 {2}failure/)
  t.notOk(existsSync(env.PGLITE_DIR), 'help opens no database')
})

t.test('the bin entry: dist/bin/cli.js, with a shebang', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  t.same(pkg.bin, { 'fastify-default-deny': './dist/bin/cli.js' })
  t.ok((await readFile(join(ROOT, 'bin', 'cli.ts'), 'utf8')).startsWith('#!/usr/bin/env node\n'))
  t.match(pkg.scripts.migrate, /bin\/cli\.ts migrate$/)
})
