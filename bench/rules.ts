// Endpoint-rules overhead: the same routes with and without a realistic rules
// file (bench/security.rules.json), each app in its own child process on
// 127.0.0.1, driven in turn by autocannon from this process.
//
//   npx tsx bench/rules.ts                       # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/rules.ts
//
// BENCH_ROUNDS (default 3), BENCH_DURATION (seconds, default 4) and
// BENCH_CONNECTIONS (default 10) tune the run; the defaults take about 100 s.
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const RULES_FILE = fileURLToPath(new URL('security.rules.json', import.meta.url))
const SECRET = randomBytes(32).toString('base64url')
const RESOURCE = '/api/v1/items/42'
const PUBLIC = '/api/v1/public/status'

type Mode = 'no-rules' | 'rules'

// ---------------------------------------------------------------- child ----

async function serve (mode: Mode): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { sql } = await import('kysely')
  const { default: defaultDeny } = await import('../lib/index.js')
  const { openDatabase } = await import('../lib/store/pglite.js')

  const url = process.env.DATABASE_URL
  const schema = `dd_bench_${process.pid}`
  const db = await openDatabase(url, undefined, 10)

  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  await app.register(defaultDeny, { db, schema, ...(mode === 'rules' ? { rulesFile: RULES_FILE } : {}) })
  app.get('/api/v1/items/:id', { config: { permission: { resource: 'item', privilege: 'read' } } },
    async (request) => ({ id: (request.params as { id: string }).id }))
  app.get(PUBLIC, { config: { permission: 'public' } }, async () => ({ ok: true }))
  await app.permissions.grant({ grantee: { kind: 'user', id: 'bench' }, resource: 'item', id: '42', privilege: 'read' })

  const close = async () => {
    await app.close()
    if (url !== undefined && url !== '') await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
    await db.destroy()
    process.exit(0)
  }
  process.on('message', (message) => { if (message === 'close') void close() })
  process.on('disconnect', () => { void close() })

  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address() as { port: number }
  process.send?.({ port: address.port, token: app.jwt.sign({ sub: 'bench', level: 'builder' }) })
}

// --------------------------------------------------------------- parent ----

interface Server { child: ChildProcess, port: number, token: string }

function start (mode: Mode): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.once('message', (message: { port: number, token: string }) => resolve({ child, ...message }))
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
  })
}

async function stop (server: Server): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.send('close')
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
  if (server.child.exitCode === null) server.child.kill()
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const WARMUP = 2

async function drive (server: Server, path: string, withToken: boolean, duration = DURATION): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    connections: CONNECTIONS,
    duration,
    headers: withToken ? { authorization: `Bearer ${server.token}` } : {}
  })
  // Every request must have been allowed, or the numbers measure refusals.
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${path}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`)
  }
  return result.requests.average
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

async function main (): Promise<void> {
  const backend = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '' ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), database: ${backend}`)
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds per app, alternating A/B then B/A`)
  console.log('rules: bench/security.rules.json (16 paths); each benchmarked path matches 4 keys\n')

  const plain = await start('no-rules')
  const ruled = await start('rules')
  try {
    const cases = [
      { name: `GET ${RESOURCE} (read grant, DB query), with token`, path: RESOURCE, token: true },
      { name: `GET ${PUBLIC} (public, no DB), anonymous`, path: PUBLIC, token: false },
      { name: `GET ${PUBLIC} (public, no DB), with token`, path: PUBLIC, token: true }
    ]
    const summary: string[] = []
    for (const { name, path, token } of cases) {
      // Warm both up (JIT, pools) before measuring.
      await drive(plain, path, token, WARMUP)
      await drive(ruled, path, token, WARMUP)
      const a: number[] = []
      const b: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const order: Array<[Server, number[]]> = round % 2 === 0 ? [[plain, a], [ruled, b]] : [[ruled, b], [plain, a]]
        for (const [server, into] of order) into.push(await drive(server, path, token))
      }
      const ratio = median(b) / median(a)
      const line = `${name}\n  no rules: ${a.map(n => n.toFixed(0)).join(' / ')} req/s (median ${median(a).toFixed(0)})\n` +
        `  rules:    ${b.map(n => n.toFixed(0)).join(' / ')} req/s (median ${median(b).toFixed(0)})\n` +
        `  ratio rules / no rules: ${ratio.toFixed(3)} ${ratio >= 0.95 ? '(meets the 0.95 target)' : '(BELOW the 0.95 target)'}`
      console.log(line + '\n')
      summary.push(`${ratio.toFixed(3)}  ${name}`)
    }
    console.log('summary (median ratio rules / no rules):')
    for (const line of summary) console.log(`  ${line}`)
  } finally {
    await Promise.all([stop(plain), stop(ruled)])
  }
}

const serveIndex = process.argv.indexOf('--serve')
if (serveIndex !== -1) {
  await serve(process.argv[serveIndex + 1] as Mode)
} else {
  await main()
}
