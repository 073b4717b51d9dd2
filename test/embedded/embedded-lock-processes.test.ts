// One process per embedded data directory, with real processes: a second
// server and the command-line tool beside a running app fail at once naming
// the directory and the holder, the holder keeps its data, and a holder
// killed outright leaves a lock the next opener takes over.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { LOCK_FILE } from '../../lib/store/data-dir-lock.js'
import { createPGliteKysely } from '../../lib/store/pglite.js'
import { childEnv, ROOT, runCli } from '../cli-helper.js'

// Each process opens PGlite (seconds, more on a busy machine).
t.setTimeout(240_000)

const HOLDER = join(ROOT, 'test', 'fixtures', 'embedded-holder.ts')

interface Teardown { teardown: (fn: () => unknown) => void }

async function scratch (t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dd-lock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

// The tool knows the resource types its config declares, as an operator's would.
async function toolConfig (t: Teardown): Promise<string> {
  const file = join(await scratch(t), 'tool.config.mjs')
  await writeFile(file, "export default { resources: ['document'] }\n")
  return file
}

interface Holder { child: ChildProcessWithoutNullStreams, pid: number, address: string, exited: Promise<number | null> }

/** The fixture app holding `dir`, once it says it is ready. */
async function holder (t: Teardown, dir: string): Promise<Holder> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir], { env: childEnv(), cwd: ROOT })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => { child.stdin.end() })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk) })
  const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()
  if (first.done === true) throw new Error(`the holder did not start: ${stderr}`)
  const { pid, address } = JSON.parse(first.value as string) as { pid: number, address: string }
  return { child, pid, address, exited }
}

interface Run { code: number, stdout: string, stderr: string }

/** `npm start`'s server (examples/server.ts) on the embedded database in `dir`. */
async function exampleServer (dir: string): Promise<Run> {
  const env = { ...childEnv(), PGLITE_DIR: dir, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1' }
  return await new Promise((resolve) => {
    // Were it to start after all, it must not outlive the test.
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'server.ts')], { env, cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

t.test('beside a running app, a second server and the CLI fail at once, naming the directory and the process', async (t) => {
  const dir = await scratch(t)
  const app = await holder(t, dir)
  const names = new RegExp(`embedded database in ${escape(dir)} is in use by process ${app.pid} on `)

  const second = await exampleServer(dir)
  t.not(second.code, 0, 'the second server exits with an error')
  t.match(second.stderr, names)
  t.match(second.stderr, /DATABASE_URL/, 'and says what to do')
  t.notMatch(second.stdout, /listening/, 'it never started')

  const cli = await runCli(['--config', await toolConfig(t), 'list', 'document', 'd01', '--json'], { ...childEnv(), PGLITE_DIR: dir, DATABASE_URL: '' }, undefined, { process: true })
  t.equal(cli.code, 1, 'the CLI exits 1')
  t.match(cli.stderr, names)
  t.equal(cli.json.error.code, 'FST_DEFAULT_DENY_DATABASE_LOCKED')

  const health = await fetch(`${app.address}/health`)
  t.equal(health.status, 200, 'the first app goes on serving')

  app.child.stdin.end()
  t.equal(await app.exited, 0)
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'the lock is released when its process exits')
  const after = await runCli(['--config', await toolConfig(t), 'list', 'document', 'd01', '--json'], { ...childEnv(), PGLITE_DIR: dir, DATABASE_URL: '' }, undefined, { process: true })
  t.equal(after.code, 0, after.stderr)
  t.match(after.json.grants, [{ grantee: { kind: 'user', id: 'carol' }, privilege: 'read' }], "the first app's grant is there")
})

t.test('a holder killed outright leaves its lock, and the next opener takes it over', async (t) => {
  const dir = await scratch(t)
  const app = await holder(t, dir)
  app.child.kill('SIGKILL')
  await app.exited
  const left = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number }
  t.equal(left.pid, app.pid, 'the dead process is still named in the lock')

  const db = await createPGliteKysely(dir)
  const taken = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number }
  t.equal(taken.pid, process.pid, 'the next opener holds it now')
  await db.destroy()
  t.notOk(existsSync(join(dir, LOCK_FILE)), 'and releases it when it closes the database')
})
