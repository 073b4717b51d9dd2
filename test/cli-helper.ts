// Runs the command-line tool on this test's database (a PGlite directory of
// its own, or its own schema on the server named by DATABASE_URL), the schema
// passed with --schema. A command runs in this process (bin/main.ts), in a
// context of its own (bin/commands/io.ts): its arguments, its environment, its
// standard input and captured output, as a process would have them, without
// a second of node's start and module loading per command. What needs a real
// process (the executable itself, a real pipe, the data directory's lock
// between processes) asks for one, compiled from the current sources
// (cli-build.ts), or from the sources through tsx where a test needs that.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import tap from 'tap'
import { sql, type Kysely } from 'kysely'
import { runMigrations } from '../lib/store/migrate.js'
import { createPGliteKysely } from '../lib/store/pglite.js'
import { postgresKysely } from '../lib/store/postgres.js'
import { main } from '../bin/main.js'
import { withIo, type Input, type Output } from '../bin/commands/io.js'
import { compiledCli } from './cli-build.js'
import { usingPostgres } from './helper.js'
import { migratedSchema } from './migrated-helper.js'

/** The resource types the command-line tests grant on. */
export const CLI_RESOURCES = ['document', 'folder', 'page']

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON, or undefined when it is not JSON. */
  json: any
}

interface Teardown { teardown: (fn: () => unknown) => void }

export interface RunOptions {
  /**
   * Run the tool as a child process (`node <compiled bin/cli.js> …args`):
   * for what only a real process shows (the executable, its exit status, a
   * pipe, a lock held by another process).
   */
  process?: boolean
  /**
   * A child process running `node --import tsx bin/cli.ts` instead of the
   * compiled tool: for a module given to the tool that is TypeScript itself
   * and reads its own process's environment (check --app), which must share
   * the plugin's modules with the tool as in an installed package.
   */
  sources?: boolean
}

/**
 * Runs the tool with `env`, `input` on its standard input: in this process,
 * or as a child process with `process` or `sources`. The tool's failures are
 * its result: only a failed build rejects.
 */
export async function runCli (args: string[], env: NodeJS.ProcessEnv, input?: string, { process: inChild = false, sources = false }: RunOptions = {}): Promise<CliResult> {
  if (!inChild && !sources) return await runInProcess(args, env, input)
  const entry = sources ? ['--import', 'tsx', join(ROOT, 'bin', 'cli.ts')] : [await compiledCli()]
  return await new Promise((resolve) => {
    const child = execFile(process.execPath, [...entry, ...args], { env, cwd: ROOT, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      let json: unknown
      try { json = JSON.parse(stdout) } catch { json = undefined }
      resolve({ code, stdout, stderr, json })
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** Collects what is written, as text. */
function capture (): { stream: Output, text: () => string } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write (chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
      done()
    }
  })
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

async function runInProcess (args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  const stdout = capture()
  const stderr = capture()
  // A pipe, as execFile gives a child: not a terminal, and ended once `input` is read.
  const stdin: Input = Readable.from(input === undefined ? [] : [Buffer.from(input)])
  stdin.isTTY = false
  const code = await withIo({ stdout: stdout.stream, stderr: stderr.stream, stdin, env }, async () => await main(['node', 'fastify-default-deny', ...args]))
  const out = stdout.text()
  let json: unknown
  try { json = JSON.parse(out) } catch { json = undefined }
  return { code, stdout: out, stderr: stderr.text(), json }
}

export interface CliWorld {
  /** Runs the tool on this test's database and schema. */
  cli: (...args: string[]) => Promise<CliResult>
  /** Runs the tool with `input` on its standard input. */
  pipe: (input: string, ...args: string[]) => Promise<CliResult>
  /**
   * The test's database, opened in this process (for what no command does,
   * such as editing an audit row). PGlite allows one process at a time: no
   * command may run meanwhile.
   */
  withDb: <T>(work: (db: Kysely<any>) => Promise<T>) => Promise<T>
  schema: string
  env: NodeJS.ProcessEnv
  /** A scratch directory for files, removed afterwards. */
  dir: string
  /** How the tool names this database (`database` in --json output). */
  database: string
}

/** `url` as the tool may show it: no password, no parameters. */
export function withoutSecrets (url: string): string {
  const { protocol, username, host, pathname } = new URL(url)
  return `${protocol}//${username === '' ? '' : `${username}@`}${host}${pathname}`
}

// Creating a PGlite directory costs seconds: one serves a whole test file,
// each test in a schema of its own (the tests of a file run one at a time).
let pgliteDir: Promise<string> | undefined
function sharedPGliteDir (): Promise<string> {
  if (pgliteDir === undefined) {
    pgliteDir = mkdtemp(join(tmpdir(), 'dd-cli-pglite-'))
    tap.teardown(async () => { await rm(await (pgliteDir as Promise<string>), { recursive: true, force: true }) })
  }
  return pgliteDir
}

/** This process's environment for a child process of a test, without tap's hooks. */
export function childEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.TAP_CHILD_ID
  // tap hooks every child process it can reach (coverage, a loader thread),
  // which costs each command most of a second; what these tests measure is
  // the tool's behaviour, not its coverage.
  const options = (env.NODE_OPTIONS ?? '').split(/\s+/).filter((option) => option !== '' && !option.includes('@tapjs/processinfo'))
  if (options.length > 0) env.NODE_OPTIONS = options.join(' ')
  else delete env.NODE_OPTIONS
  return env
}

/**
 * A database and schema for one test, with the plugin's migrations applied
 * unless `migrate` is false; its commands run as child processes with `process`.
 */
export async function cliWorld (t: Teardown, { migrate = true, process: inChild = false } = {}): Promise<CliWorld> {
  const schema = `dd_cli_${process.pid}_${randomBytes(4).toString('hex')}`
  const dir = await mkdtemp(join(tmpdir(), 'dd-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const env = childEnv()
  if (usingPostgres) {
    t.teardown(async () => {
      const db = postgresKysely(process.env.DATABASE_URL as string, { max: 1 })
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
      await db.destroy()
    })
  } else {
    env.PGLITE_DIR = await sharedPGliteDir()
  }
  // The resource types the tests use, declared as an operator's --config
  // declares the app's; a test giving its own --config declares its own.
  const config = join(dir, 'tool.config.mjs')
  await writeFile(config, `export default { resources: ${JSON.stringify(CLI_RESOURCES)} }\n`)
  const withConfig = (args: string[]) => args.includes('--config') ? args : ['--config', config, ...args]
  const cli = async (...args: string[]) => await runCli([...withConfig(args), '--schema', schema], env, undefined, { process: inChild })
  const pipe = async (input: string, ...args: string[]) => await runCli([...withConfig(args), '--schema', schema], env, input, { process: inChild })
  const withDb = async <T>(work: (db: Kysely<any>) => Promise<T>): Promise<T> => {
    const db = usingPostgres ? postgresKysely(process.env.DATABASE_URL as string, { max: 1 }) : await createPGliteKysely(env.PGLITE_DIR)
    try {
      return await work(db)
    } finally {
      await db.destroy()
    }
  }
  // The same runMigrations that `migrate up` calls, without the command's
  // parsing and plugin: test/cli/cli-migrate.test.ts runs the command.
  // Unmigrated, the embedded database is still created: only `migrate up`
  // would create it, and the tests of a fresh schema ask other commands too.
  // On PostgreSQL, the same statements recorded from it and replayed at once
  // (test/migrated-helper.ts: about half the wall time of a schema's
  // migration there); on PGlite the statements are most of the cost, and they run as the migrator runs them.
  if (migrate) await withDb(async (db) => { if (usingPostgres) await migratedSchema(db, schema); else await runMigrations(db, { schema }) })
  else if (!usingPostgres && !existsSync(join(env.PGLITE_DIR as string, 'PG_VERSION'))) await withDb(async () => {})
  const database = usingPostgres ? withoutSecrets(process.env.DATABASE_URL as string) : `embedded ${env.PGLITE_DIR as string}`
  return { cli, pipe, withDb, schema, env, dir, database }
}

/** Every stored grant, as export writes them (JSON Lines), without the instant each was granted. */
export async function grantsOf (world: CliWorld): Promise<unknown[]> {
  const out = await world.cli('export', '--format', 'json')
  if (out.code !== 0) throw new Error(`export failed: ${out.stderr}`)
  return out.stdout.split('\n').filter((line) => line !== '').map((line) => {
    const { grantedAt: _at, ...grant } = JSON.parse(line)
    return grant
  })
}
