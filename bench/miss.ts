// The decision cache where answers are not cached yet: the route with
// `cache: true` against the same route with the cache off, on request
// streams that hit the cache 0%, 50% and 99% of the time, and once over
// BENCH_COLD (100,000) distinct ids from a cold cache (each side in two
// halves, on, off, off, on); and the cached route
// against a route doing only `request.jwtVerify()`. One child process seeds
// the world of bench/world.ts and serves every route on 127.0.0.1; autocannon
// in this process drives them in interleaved rounds.
//
//   npx tsx bench/miss.ts                                    # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/miss.ts
//
// BENCH_GRANTS (1,000,000), BENCH_ROUNDS (3), BENCH_DURATION (seconds, 4),
// BENCH_CONNECTIONS (10), BENCH_COLD (100,000); BENCH_CPU_PROF=dir writes the
// server's CPU profile there, BENCH_ONLY=regex runs only the cases whose name
// matches it (BENCH_COLD=0: no cold run); BENCH_REPORT_ONLY=1 (or
// --report-only) reports a missed target without failing.
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { ask, median } from './child.js'
import { BENCH_GROUPS, seedWorld, worldSize } from './world.js'

const SECRET = randomBytes(32).toString('base64url')
const GRANTS = Number(process.env.BENCH_GRANTS ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const COLD = Number(process.env.BENCH_COLD ?? 100_000)
const REPORT_ONLY = process.argv.includes('--report-only') || (process.env.BENCH_REPORT_ONLY ?? '') !== ''
const usingPostgres = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ''
// Principals whose answers are never cached twice: when the fresh ids of
// one run out, the stream goes on with the next user's token.
const USERS = 40

// ---------------------------------------------------------------- child ----

async function serve (): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { sql } = await import('kysely')
  const { default: defaultDeny, runMigrations } = await import('../lib/index.js')
  const { openDatabase } = await import('../lib/store/pglite.js')

  const url = process.env.DATABASE_URL
  const schema = `dd_bench_miss_${process.pid}`
  const db = await openDatabase(url, undefined, CONNECTIONS)
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  await runMigrations(db, { schema })
  const started = performance.now()
  await seedWorld(db, schema, worldSize(GRANTS))
  const seeded = (performance.now() - started) / 1000
  const { count } = (await sql<{ count: string }>`select count(*) from ${sql.id(schema, 'default_deny_grant')}`.execute(db)).rows[0] as { count: string }

  const app = Fastify({ logger: false })
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id
  app.get('/bare/:id', async (request) => ({ id: idOf(request) }))
  let stats!: () => { hits: number, misses: number }
  let tokens: string[] = []
  await app.register(async (scope) => {
    await scope.register(jwt, { secret: SECRET })
    tokens = Array.from({ length: USERS }, (_, i) => scope.jwt.sign({ sub: `u${42 + i}`, groups: BENCH_GROUPS }))
    scope.get('/jwt/:id', async (request) => {
      await request.jwtVerify()
      return { id: idOf(request) }
    })
    const permission = { resource: 'document', privilege: 'read' as const }
    await scope.register(async (guarded) => {
      await guarded.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, cache: usingPostgres ? { listenConnectionString: url } : true })
      guarded.get('/cached/:id', { config: { permission } }, async (request) => ({ id: idOf(request) }))
      stats = () => guarded.permissions.cacheStats() as { hits: number, misses: number }
    })
    await scope.register(async (guarded) => {
      await guarded.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false })
      guarded.get('/uncached/:id', { config: { permission } }, async (request) => ({ id: idOf(request) }))
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const close = async () => {
    await app.close()
    if (usingPostgres) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
    await db.destroy()
    process.exit(0)
  }
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'close') void close()
    if (message.kind === 'stats') process.send?.({ kind: 'stats', stats: stats() })
    if (message.kind === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send?.({ kind: 'cpu', micros: user + system })
    }
  })
  process.on('disconnect', () => { void close() })
  process.send?.({ kind: 'ready', port: (app.server.address() as { port: number }).port, tokens, seeded, count: Number(count) })
}

// --------------------------------------------------------------- parent ----

interface Server { child: ChildProcess, port: number, tokens: string[], seeded: number, count: number }

function start (): Promise<Server> {
  return new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=dir writes the server's CPU profile there (node --cpu-prof).
    const profile = process.env.BENCH_CPU_PROF
    const execArgv = [...process.execArgv, ...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`])]
    const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.once('message', (message: Omit<Server, 'child'>) => resolve({ child, ...message }))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
}

const DOCUMENTS = worldSize(GRANTS).documents
const HOT = 100
// Fresh (never asked before) pairs of a user and a document, shared by every
// stream so that no two runs ask the same pair: the first user's documents
// from HOT on, then the next user's.
let fresh = 0
function nextFresh (): [number, string] {
  const n = fresh++
  const span = DOCUMENTS - HOT
  const user = Math.floor(n / span) % USERS
  return [user, `doc${HOT + (n % span)}`]
}

/** A stream where `hot` of every 100 requests ask one of HOT ids asked before, the rest a fresh pair. */
function stream (hot: number) {
  let i = 0
  return (): [number, string] => {
    const k = i++
    return k % 100 < hot ? [0, `doc${k % HOT}`] : nextFresh()
  }
}

interface Case { name: string, route: string, hot: number }

/** The case's rate (req/s) and the server process's CPU time per request (µs). */
async function drive (server: Server, c: Case, options: { duration?: number, amount?: number } = { duration: DURATION }): Promise<{ rate: number, cpu: number }> {
  const next = stream(c.hot)
  const before = (await ask<{ micros: number }>(server, 'cpu')).micros
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    ...options,
    requests: [{
      method: 'GET',
      setupRequest: (request) => {
        const [user, id] = next()
        return { ...request, path: `/${c.route}/${id}`, headers: { authorization: `Bearer ${server.tokens[user] as string}` } }
      }
    }]
  })
  if (result.errors > 0 || result.timeouts > 0 || result['5xx'] > 0) throw new Error(`${c.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result['5xx']} 5xx`)
  const cpu = ((await ask<{ micros: number }>(server, 'cpu')).micros - before) / result.requests.total
  return { rate: options.amount === undefined ? result.requests.average : result.requests.total / result.duration, cpu }
}

async function main (): Promise<void> {
  const backend = usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), database: ${backend}`)
  const server = await start()
  console.log(`world: ${server.count} grants, ${DOCUMENTS} documents (seeded in ${server.seeded.toFixed(0)} s)`)
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds, the order rotating each round\n`)
  const cases: Case[] = [{ name: 'jwtVerify only', route: 'jwt', hot: 100 }]
  for (const hot of [0, 50, 99]) {
    cases.push({ name: `cache on, ${hot}% hits`, route: 'cached', hot }, { name: `cache off, same stream (${hot}%)`, route: 'uncached', hot })
  }
  cases.push({ name: 'cache on, 100% hits', route: 'cached', hot: 100 })
  const only = process.env.BENCH_ONLY
  if (only !== undefined) cases.splice(0, cases.length, ...cases.filter((c) => new RegExp(only).test(c.name)))
  const missed: string[] = []
  const target = (label: string, r: number, min: number) => {
    const ok = r >= min
    if (!ok) missed.push(label)
    console.log(`${label.padEnd(48)} ${r.toFixed(3)}  (≥ ${min.toFixed(2)}: ${ok ? 'meets' : 'MISSES'})`)
  }
  try {
    // Warm-up: the hot ids get cached, every route runs once.
    for (const c of cases) await drive(server, c, { duration: 1 })
    // From a cold cache: COLD distinct ids, each asked once, cache on and off back to back.
    // Each side in two halves, in the order on, off, off, on.
    const half = Math.round(COLD / 2)
    const cold = async (route: string) => await drive(server, { name: `cold ${route}`, route, hot: 0 }, { amount: half })
    const both = (a: { rate: number, cpu: number }, b: { rate: number, cpu: number }) => ({ rate: 2 / (1 / a.rate + 1 / b.rate), cpu: (a.cpu + b.cpu) / 2 })
    const none = { rate: NaN, cpu: NaN }
    let coldOn = none
    let coldOff = none
    if (COLD > 0) {
      const on1 = await cold('cached')
      const off1 = await cold('uncached')
      const off2 = await cold('uncached')
      coldOn = both(on1, await cold('cached'))
      coldOff = both(off1, off2)
    }
    const before = (await ask<{ stats: { hits: number, misses: number } }>(server, 'stats')).stats
    const runs = new Map<string, number[]>(cases.map((c) => [c.name, []]))
    const cpu = new Map<string, number[]>(cases.map((c) => [c.name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % cases.length
      for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) {
        const { rate, cpu: perRequest } = await drive(server, c)
        runs.get(c.name)?.push(rate)
        cpu.get(c.name)?.push(perRequest)
      }
    }
    const after = (await ask<{ stats: { hits: number, misses: number } }>(server, 'stats')).stats
    const med = (name: string) => runs.has(name) ? median(runs.get(name) as number[]) : NaN
    for (const c of cases) console.log(`${c.name.padEnd(34)} ${(runs.get(c.name) as number[]).map((n) => n.toFixed(0)).join(' / ').padEnd(26)} median ${med(c.name).toFixed(0).padStart(6)} req/s, server CPU ${median(cpu.get(c.name) as number[]).toFixed(1).padStart(6)} µs/request`)
    console.log(`cold cache, ${COLD} distinct ids: cache on ${coldOn.rate.toFixed(0)} req/s (server CPU ${coldOn.cpu.toFixed(1)} µs/request), cache off ${coldOff.rate.toFixed(0)} req/s (${coldOff.cpu.toFixed(1)} µs/request)`)
    console.log(`cache hits in the measured rounds: ${after.hits - before.hits}, misses ${after.misses - before.misses}, fresh pairs asked in all ${fresh}\n`)
    console.log('targets:')
    target(`cold cache (${COLD} ids), cache on / off`, coldOn.rate / coldOff.rate, 0.95)
    target('0% hits, cache on / off', med('cache on, 0% hits') / med('cache off, same stream (0%)'), 0.95)
    console.log(`(50% hits, cache on / off: ${(med('cache on, 50% hits') / med('cache off, same stream (50%)')).toFixed(3)}; 99%: ${(med('cache on, 99% hits') / med('cache off, same stream (99%)')).toFixed(3)})`)
    target('cached route (100% hits) / jwtVerify only', med('cache on, 100% hits') / med('jwtVerify only'), 0.85)
  } finally {
    server.child.send({ kind: 'close' })
  }
  if (missed.length > 0 && !REPORT_ONLY) {
    console.log(`\nmissed: ${missed.join('; ')} (BENCH_REPORT_ONLY=1 or --report-only reports without failing)`)
    process.exitCode = 1
  }
}

if (process.argv.includes('--serve')) await serve()
else await main()
