// What `npm start` prints: the banner whole on standard output, the log on
// standard error, and no deprecation warning from Fastify. A real process,
// because the interleaving of two streams and Node's process warnings are
// exactly what an in-process test cannot see.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

const root = join(import.meta.dirname, '..', '..')

t.test('npm start: banner alone on stdout, JSON log on stderr, no FSTDEP warning', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', PGLITE_DIR: join(dir, 'pglite'), LOG_LEVEL: 'info' }
  // Always the embedded database, in a directory of its own: what is tested is the output, and
  // the example on DATABASE_URL would write to that database's public schema.
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => child.stdout.on('data', () => { if (stdout.includes('Press Ctrl-C to stop.')) resolve(true) })),
    exited.then(() => false)
  ])
  t.ok(ready, `the example started (stderr: ${stderr.slice(0, 500)})`)
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'Ctrl-C (SIGTERM) closes it cleanly')

  const banner = stdout.split('\n')
  t.match(banner[0], /^fastify-default-deny example listening at http:\/\/127\.0\.0\.1:\d+$/)
  t.notOk(banner.some((line) => line.startsWith('{')), 'no JSON log line on standard output')
  t.ok(stdout.trimEnd().endsWith('Press Ctrl-C to stop.'), 'the banner ends the output')
  const logLines = stderr.split('\n').filter((line) => line.startsWith('{'))
  t.ok(logLines.length > 0, 'the log is on standard error')
  for (const line of logLines) t.doesNotThrow(() => JSON.parse(line), 'each log line is whole JSON')
  t.notMatch(stderr, /FSTDEP\d+|DeprecationWarning|FastifyDeprecation/, 'no deprecation warning')
})
