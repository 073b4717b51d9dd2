// Read replicas: the route check (no decision cache) reading from the
// primary, against the same route reading from a hot standby of it, and
// reading from the standby while presenting a revision it has replayed.
// The standby is started here (pg_basebackup, see test/replica-helper.ts),
// on the same machine as the primary: see BENCHMARKS.md for what that can
// and cannot show.
//
//   DATABASE_URL=postgres://… npx tsx bench/replicas.ts     (PostgreSQL only)
//
// BENCH_ROUNDS (3), BENCH_DURATION (seconds, 4) and BENCH_CONNECTIONS (10)
// tune the run.
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { ask, median } from './child.js'

const SECRET = randomBytes(32).toString('base64url')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const IDS = Array.from({ length: 100 }, (_, i) => `doc${i}`)

async function serve (): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { default: defaultDeny, runMigrations } = await import('../lib/index.js')
  const { postgresKysely } = await import('../lib/store/postgres.js')
  const { sql } = await import('kysely')
  const url = process.env.DATABASE_URL as string
  const standby = process.env.BENCH_STANDBY as string
  const schema = `dd_bench_replicas_${process.pid}`
  const db = postgresKysely(url, { max: CONNECTIONS, genericPlans: true })
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  await runMigrations(db, { schema })
  const grants = IDS.filter((_, i) => i % 2 === 0).map((id) => ({ principal_kind: 'user', principal_id: 'u42', resource_type: 'document', resource_id: id, privilege: 'read' }))
  await db.withSchema(schema).insertInto('default_deny_grant').values(grants).execute()

  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: SECRET })
  let revision!: string
  let stats!: () => unknown
  const scopes: Array<[string, Record<string, unknown>]> = [
    ['/primary', { connectionString: url }],
    ['/standby', { connectionString: url, replicas: { connectionStrings: [standby] } }]
  ]
  for (const [prefix, options] of scopes) {
    await app.register(async (guarded) => {
      await guarded.register(defaultDeny, { schema, migrate: false, grantRoutes: false, ...options })
      guarded.get(`${prefix}/:id`, { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: (request.params as { id: string }).id }))
      if (prefix === '/standby') {
        stats = () => guarded.permissions.replicaStats()
        revision = await guarded.permissions.revision()
      }
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const close = async () => {
    await app.close()
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
    await db.destroy()
    process.exit(0)
  }
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'close') void close()
    if (message.kind === 'stats') process.send?.({ kind: 'stats', stats: stats() })
  })
  process.on('disconnect', () => { void close() })
  process.send?.({ kind: 'ready', port: (app.server.address() as { port: number }).port, token: app.jwt.sign({ sub: 'u42' }), revision })
}

interface Server { child: ChildProcess, port: number, token: string, revision: string }
interface Case { name: string, path: string, revision: boolean }

async function drive (server: Server, c: Case, duration = DURATION): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${server.token}`, ...(c.revision ? { 'default-deny-revision': server.revision } : {}) }
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration,
    requests: IDS.map((id) => ({ method: 'GET', path: `${c.path}/${id}`, headers }))
  })
  // Half the ids are readable: both answers must show up, and nothing else.
  if (result.errors > 0 || result.timeouts > 0 || result['2xx'] === 0 || result.non2xx === 0 || result['5xx'] > 0) {
    throw new Error(`${c.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result['2xx']} 2xx, ${result.non2xx} non-2xx`)
  }
  return result.requests.average
}

async function main (): Promise<void> {
  if (process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === '') {
    console.log('bench/replicas.ts: skipped (needs DATABASE_URL: a PostgreSQL server to take a standby of)')
    return
  }
  const { startStandby } = await import('../test/replica-helper.js')
  const teardowns: Array<() => unknown> = []
  const standby = await startStandby({ teardown: (fn) => { teardowns.unshift(fn) } })
  try {
    console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), primary and standby on this machine`)
    console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds, the order rotating each round; 100 ids, half readable; no decision cache\n`)
    const server = await new Promise<Server>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
        execArgv: process.execArgv,
        env: { ...process.env, BENCH_STANDBY: standby.url },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
      })
      child.once('message', (message: Omit<Server, 'child'>) => { resolve({ child, ...message }) })
      child.once('exit', (code) => { reject(new Error(`server exited with ${code}`)) })
    })
    const cases: Case[] = [
      { name: 'primary only', path: '/primary', revision: false },
      { name: 'standby', path: '/standby', revision: false },
      { name: 'standby, revision presented', path: '/standby', revision: true }
    ]
    try {
      for (const c of cases) await drive(server, c, 1)
      const runs = new Map<string, number[]>(cases.map((c) => [c.name, []]))
      for (let round = 0; round < ROUNDS; round++) {
        const shift = round % cases.length
        for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) runs.get(c.name)?.push(await drive(server, c))
      }
      const med = (name: string) => median(runs.get(name) as number[])
      for (const c of cases) console.log(`${c.name.padEnd(30)} ${(runs.get(c.name) as number[]).map((n) => n.toFixed(0)).join(' / ').padEnd(26)} median ${med(c.name).toFixed(0).padStart(6)} req/s`)
      console.log(`\nstandby / primary only:                      ${(med('standby') / med('primary only')).toFixed(2)}`)
      console.log(`standby with a revision / primary only:      ${(med('standby, revision presented') / med('primary only')).toFixed(2)}`)
      const { stats } = await ask<{ stats: Array<{ reads: number, lag: number | null }> }>(server, 'stats')
      console.log(`reads sent to the standby: ${stats[0]?.reads ?? 0}; its known lag at the end: ${stats[0]?.lag ?? 'unknown'} ms`)
    } finally {
      server.child.send({ kind: 'close' })
      await new Promise((resolve) => server.child.once('exit', resolve))
    }
  } finally {
    for (const fn of teardowns) await fn()
  }
}

if (process.argv.includes('--serve')) await serve()
else await main()
