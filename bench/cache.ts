// The decision cache: a cached route against the same route doing only
// `request.jwtVerify()`, and against a bare route with verified tokens
// reused (the plugin's `tokenReuse`, and @fastify/jwt's verified-token cache
// beside it); the window in which another instance still serves a revoked
// grant, against the NOTIFY delivery time itself, and with the revoke's
// revision presented; the cache's memory.
//
//   npx tsx bench/cache.ts                                    # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/cache.ts
//
// BENCH_ROUNDS (3), BENCH_DURATION (seconds, 4), BENCH_CONNECTIONS (10),
// BENCH_TRIALS (revocations, 1000) and BENCH_ENTRIES (100,000) tune the run;
// run it with `node --expose-gc --import tsx` for settled heap figures.
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
const TRIALS = Number(process.env.BENCH_TRIALS ?? 1000)
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 100_000)
const usingPostgres = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ''
const REPORT_ONLY = process.argv.includes('--report-only') || (process.env.BENCH_REPORT_ONLY ?? '') !== ''
let missed = 0
// 100 documents, the even ones readable: a page's worth of answers, every one cached after the first request.
const IDS = Array.from({ length: 100 }, (_, i) => `doc${i}`)

// A database (PostgreSQL with DATABASE_URL, else PGlite in memory) with the
// plugin's tables in a schema of its own; `drop` removes the schema and closes it.
async function benchDatabase (name: string, max?: number) {
  const { sql } = await import('kysely')
  const { runMigrations } = await import('../lib/index.js')
  const { openDatabase } = await import('../lib/store/pglite.js')
  const schema = `dd_bench_${name}_${process.pid}`
  const db = await openDatabase(process.env.DATABASE_URL, undefined, max)
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  await runMigrations(db, { schema })
  const drop = async () => {
    if (usingPostgres) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
    await db.destroy()
  }
  return { db, schema, drop }
}

// ---------------------------------------------------------------- child ----

async function serve (): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { default: defaultDeny } = await import('../lib/index.js')

  const url = process.env.DATABASE_URL
  const { db, schema, drop } = await benchDatabase('cache', CONNECTIONS)
  const grants = IDS.filter((_, i) => i % 2 === 0).map((id) => ({ principal_kind: 'user', principal_id: 'u42', resource_type: 'document', resource_id: id, privilege: 'read' }))
  await db.withSchema(schema).insertInto('default_deny_grant').values(grants).execute()
  const cache = usingPostgres ? { listenConnectionString: url } : true
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id

  const app = Fastify({ logger: false })
  app.get('/bare/:id', async (request) => ({ id: idOf(request) }))
  let stats!: () => unknown
  let sign!: (claims: object) => string
  // Each scope its own @fastify/jwt: without and with its verified-token
  // cache, and without it under the plugin's tokenReuse.
  const scopes: Array<[string, { algorithms: Array<'HS256'>, cache?: boolean }, boolean]> = [
    ['', { algorithms: ['HS256'] }, false], ['/jc', { algorithms: ['HS256'], cache: true }, false], ['/tr', { algorithms: ['HS256'] }, true]
  ]
  for (const [prefix, verify, reuse] of scopes) {
    await app.register(async (scope) => {
      await scope.register(jwt, { secret: SECRET, verify })
      sign = (claims) => scope.jwt.sign(claims)
      scope.get(`${prefix}/jwt/:id`, async (request) => {
        await request.jwtVerify()
        return { id: idOf(request) }
      })
      await scope.register(async (guarded) => {
        await guarded.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, cache, tokenReuse: reuse ? { trusted: false } : false })
        guarded.get(`${prefix}/cached/:id`, { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: idOf(request) }))
        if (prefix === '') stats = () => guarded.permissions.cacheStats()
      })
      await scope.register(async (guarded) => {
        await guarded.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false })
        guarded.get(`${prefix}/uncached/:id`, { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: idOf(request) }))
      })
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })

  const close = async () => {
    await app.close()
    await drop()
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
  process.send?.({ kind: 'ready', port: (app.server.address() as { port: number }).port, token: sign({ sub: 'u42', groups: ['g7', 'g8'] }) })
}

// --------------------------------------------------------------- parent ----

interface Server { child: ChildProcess, port: number, token: string }
interface Case { name: string, path: string, token: boolean, expect: 'mixed' | '2xx' }

function start (): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.once('message', (message: Omit<Server, 'child'>) => resolve({ child, ...message }))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
}

/** Requests per second, and the server's CPU time per request (µs). */
async function drive (server: Server, c: Case, duration = DURATION): Promise<{ rate: number, cpu: number }> {
  const cpu0 = (await ask<{ micros: number }>(server, 'cpu')).micros
  const headers: Record<string, string> = c.token ? { authorization: `Bearer ${server.token}` } : {}
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration,
    requests: IDS.map((id) => ({ method: 'GET', path: `${c.path}/${id}`, headers }))
  })
  const wrong = c.expect === '2xx' ? result.non2xx : (result['2xx'] === 0 || result.non2xx === 0 ? 1 : 0)
  if (result.errors > 0 || result.timeouts > 0 || wrong > 0) throw new Error(`${c.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
  const cpu1 = (await ask<{ micros: number }>(server, 'cpu')).micros
  return { rate: result.requests.average, cpu: (cpu1 - cpu0) / Math.max(1, result.requests.total) }
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number
}

async function throughput (): Promise<void> {
  const server = await start()
  const cases: Case[] = [
    { name: 'bare route', path: '/bare', token: false, expect: '2xx' },
    { name: 'jwtVerify only', path: '/jwt', token: true, expect: '2xx' },
    { name: 'plugin, cached', path: '/cached', token: true, expect: 'mixed' },
    { name: 'plugin, no cache', path: '/uncached', token: true, expect: 'mixed' },
    { name: 'jwt cache: jwtVerify only', path: '/jc/jwt', token: true, expect: '2xx' },
    { name: 'jwt cache: plugin, cached', path: '/jc/cached', token: true, expect: 'mixed' },
    { name: 'token reuse: plugin, cached', path: '/tr/cached', token: true, expect: 'mixed' }
  ]
  try {
    for (const c of cases) await drive(server, c, 1)
    const before = (await ask<{ stats: { hits: number, misses: number } }>(server, 'stats')).stats
    const runs = new Map<string, number[]>(cases.map((c) => [c.name, []]))
    const cpu = new Map<string, number[]>(cases.map((c) => [c.name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % cases.length
      for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) {
        const run = await drive(server, c)
        runs.get(c.name)?.push(run.rate)
        cpu.get(c.name)?.push(run.cpu)
      }
    }
    const after = (await ask<{ stats: { hits: number, misses: number } }>(server, 'stats')).stats
    const med = (name: string) => median(runs.get(name) as number[])
    const medCpu = (name: string) => median(cpu.get(name) as number[])
    for (const c of cases) console.log(`${c.name.padEnd(30)} ${(runs.get(c.name) as number[]).map((n) => n.toFixed(0)).join(' / ').padEnd(26)} median ${med(c.name).toFixed(0).padStart(6)} req/s, server CPU ${medCpu(c.name).toFixed(1).padStart(5)} µs/request`)
    const hits = after.hits - before.hits
    const misses = after.misses - before.misses
    const ratio = (a: string, b: string, target: number) => {
      const r = med(a) / med(b)
      if (r < target) missed++
      return `${r.toFixed(2)} (target ≥ ${target.toFixed(2)}: ${r >= target ? 'meets' : 'MISSES'})`
    }
    console.log(`\ncached route / jwtVerify only:                   ${ratio('plugin, cached', 'jwtVerify only', 0.85)}`)
    console.log(`cached route, tokens reused / bare route:        ${ratio('token reuse: plugin, cached', 'bare route', 0.80)}; CPU time ${(medCpu('bare route') / medCpu('token reuse: plugin, cached')).toFixed(2)}`)
    // The path not kept, measured beside it: @fastify/jwt's own verified-token cache.
    console.log(`(with @fastify/jwt's verified-token cache instead: ${(med('jwt cache: plugin, cached') / med('bare route')).toFixed(2)}; CPU time ${(medCpu('bare route') / medCpu('jwt cache: plugin, cached')).toFixed(2)})`)
    console.log(`cached route / uncached route:                   ${(med('plugin, cached') / med('plugin, no cache')).toFixed(2)}`)
    console.log(`hit rate (measured rounds, first cached scope):  ${(100 * hits / Math.max(1, hits + misses)).toFixed(2)}% of ${hits + misses} lookups`)
  } finally {
    server.child.send({ kind: 'close' })
  }
}

// Two instances on one database, each with its own pool and LISTEN
// connection (in one process, so one clock): A revokes, B is asked until it
// denies. The window starts when A's revoke is acknowledged.
async function revocation (): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { default: defaultDeny } = await import('../lib/index.js')
  const { openDatabase } = await import('../lib/store/pglite.js')
  const url = process.env.DATABASE_URL
  const { db: setup, schema, drop } = await benchDatabase('revoke')
  const instance = async () => {
    const db = usingPostgres ? await openDatabase(url) : setup
    const app = Fastify({ logger: false })
    await app.register(jwt, { secret: SECRET })
    await app.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, cache: usingPostgres ? { listenConnectionString: url } : true })
    app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
    await app.ready()
    return { app, db, headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'alice' })}` } }
  }
  const a = await instance()
  const b = await instance()
  const bStats = () => b.app.permissions.cacheStats() as { invalidations: number, hits: number }
  const until = async (condition: () => boolean | Promise<boolean>) => { while (!(await condition())) await new Promise((resolve) => setImmediate(resolve)) }
  const alice = { kind: 'user' as const, id: 'alice' }
  const windows: number[] = []
  const heardAfter: number[] = []
  let staleAfterHeard = 0
  let staleAllows = 0
  for (let i = 0; i < TRIALS; i++) {
    const target = { resource: 'document', id: `d${i}`, privilege: 'read' as const }
    let heard = bStats().invalidations
    await a.app.permissions.grant({ grantee: alice, ...target })
    await until(() => bStats().invalidations > heard)
    await b.app.inject({ url: `/d/d${i}`, headers: b.headers })
    const hits = bStats().hits
    if ((await b.app.inject({ url: `/d/d${i}`, headers: b.headers })).statusCode !== 200 || bStats().hits !== hits + 1) throw new Error('b did not cache the allow')
    heard = bStats().invalidations
    await a.app.permissions.revoke({ grantee: alice, ...target })
    const acknowledged = process.hrtime.bigint()
    // The window ends with the last allow B serves: asked until it denies.
    let lastAllow: bigint | null = null
    let appliedAt: bigint | null = null
    for (;;) {
      // A hit never waits for I/O: let the event loop read B's LISTEN socket between requests, as a server's would.
      await new Promise((resolve) => setImmediate(resolve))
      const applied = bStats().invalidations > heard
      if (applied && appliedAt === null) appliedAt = process.hrtime.bigint()
      const status = (await b.app.inject({ url: `/d/d${i}`, headers: b.headers })).statusCode
      if (status === 403) break
      lastAllow = process.hrtime.bigint()
      staleAllows++
      if (applied) staleAfterHeard++
    }
    windows.push(lastAllow === null ? 0 : Number(lastAllow - acknowledged) / 1000)
    heardAfter.push(appliedAt === null ? 0 : Number((appliedAt as bigint) - acknowledged) / 1000)
  }

  // The same revokes, each followed at once by a request on B presenting the
  // revoke's revision: how many allows, and what waiting for the barrier
  // costs, against a cached request presenting none.
  const { REVISION_HEADER } = await import('../lib/revision.js')
  let staleWithRevision = 0
  const withRevision: number[] = []
  const withoutRevision: number[] = []
  const heardHit: number[] = []
  for (let i = 0; i < TRIALS; i++) {
    const target = { resource: 'document', id: `r${i}`, privilege: 'read' as const }
    const heard = bStats().invalidations
    const { revision: granted } = await a.app.permissions.grant({ grantee: alice, ...target })
    await until(() => bStats().invalidations > heard)
    await b.app.inject({ url: `/d/r${i}`, headers: b.headers })
    let started = process.hrtime.bigint()
    if ((await b.app.inject({ url: `/d/r${i}`, headers: b.headers })).statusCode !== 200) throw new Error('b did not allow')
    withoutRevision.push(Number(process.hrtime.bigint() - started) / 1000)
    started = process.hrtime.bigint()
    if ((await b.app.inject({ url: `/d/r${i}`, headers: { ...b.headers, [REVISION_HEADER]: granted as string } })).statusCode !== 200) throw new Error('b did not allow')
    heardHit.push(Number(process.hrtime.bigint() - started) / 1000)
    const { revision } = await a.app.permissions.revoke({ grantee: alice, ...target })
    started = process.hrtime.bigint()
    const status = (await b.app.inject({ url: `/d/r${i}`, headers: { ...b.headers, [REVISION_HEADER]: revision as string } })).statusCode
    withRevision.push(Number(process.hrtime.bigint() - started) / 1000)
    if (status !== 403) staleWithRevision++
  }

  // NOTIFY itself: from a committed NOTIFY's acknowledgement to its arrival on a LISTEN connection.
  const delivery: number[] = []
  if (usingPostgres) {
    const { default: pg } = await import('pg')
    const listener = new pg.Client({ connectionString: url })
    const sender = new pg.Client({ connectionString: url })
    await listener.connect()
    await sender.connect()
    await listener.query('listen bench_delivery')
    for (let i = 0; i < TRIALS; i++) {
      let arrived: bigint | null = null
      listener.once('notification', () => { arrived = process.hrtime.bigint() })
      await sender.query(`notify bench_delivery, '${i}'`)
      const acknowledged = process.hrtime.bigint()
      // Waiting as the revocation loop does (turning the event loop, not asleep in it), so both see the same delivery.
      while (arrived === null) await new Promise((resolve) => setImmediate(resolve))
      delivery.push(Math.max(0, Number((arrived as bigint) - acknowledged) / 1000))
    }
    await listener.end()
    await sender.end()
  }
  const line = (name: string, values: number[]) => console.log(`${name.padEnd(44)} p50 ${percentile(values, 0.5).toFixed(0).padStart(5)} µs, p99 ${percentile(values, 0.99).toFixed(0).padStart(6)} µs, max ${Math.max(...values).toFixed(0).padStart(6)} µs (${values.length} trials)`)
  console.log('')
  line('revoked on A, last allow on B after the ack', windows)
  line('revoked on A, notification applied on B', heardAfter)
  if (delivery.length > 0) {
    line('NOTIFY delivery (ack → arrival)', delivery)
    const r = percentile(windows, 0.99) / Math.max(1, percentile(delivery, 0.99))
    if (r > 2) missed++
    console.log(`p99 window / p99 NOTIFY delivery:             ${r.toFixed(2)} (target ≤ 2.00: ${r <= 2 ? 'meets' : 'MISSES'})`)
  }
  console.log(`allows B served after A acknowledged the revoke: ${staleAllows} in ${TRIALS} trials; after B had applied the notification: ${staleAfterHeard}`)
  if (staleWithRevision > 0) missed++
  console.log(`with the revoke's revision presented at once on B: ${staleWithRevision} allows in ${TRIALS} trials (target 0: ${staleWithRevision === 0 ? 'meets' : 'MISSES'})`)
  line('B: cached request, no revision', withoutRevision)
  line('B: cached request, an older revision', heardHit)
  line('B: just revoked, its revision (barrier, miss)', withRevision)
  await a.app.close()
  await b.app.close()
  if (usingPostgres) {
    await a.db.destroy()
    await b.db.destroy()
  }
  await drop()
}

// The cache's own memory: ENTRIES answers with realistic keys, then a flood
// of distinct keys against a byte budget.
async function memory (): Promise<void> {
  const { DecisionCache, lookupOf } = await import('../lib/cache/decision-cache.js')
  const gc = (globalThis as { gc?: () => void }).gc
  const heap = () => { gc?.(); return process.memoryUsage().heapUsed }
  const fill = (cache: InstanceType<typeof DecisionCache>, n: number, offset = 0) => {
    for (let i = 0; i < n; i++) {
      const lookup = lookupOf({ kind: 'user', id: `user-${(i + offset) % 5000}`, groups: ['staff', `team-${i % 40}`] }, 'document', `doc-${i + offset}`, 'read')
      const ticket = cache.begin(lookup)
      if (ticket !== null) cache.store(lookup, ticket, i % 2 === 0, performance.now(), null)
    }
  }
  const base = heap()
  const big = new DecisionCache({ maxEntries: ENTRIES, maxBytes: 2 ** 40, maxAge: 600_000 })
  big.turnOn()
  fill(big, ENTRIES)
  const used = heap() - base
  console.log(`\n${big.size} entries: heap ${(used / 2 ** 20).toFixed(1)} MiB (${(used / big.size).toFixed(0)} B per entry), the cache's own estimate ${(big.bytes / 2 ** 20).toFixed(1)} MiB${gc === undefined ? ' (run with --expose-gc for a settled heap)' : ''}`)
  const budget = 8 * 2 ** 20
  const bounded = new DecisionCache({ maxEntries: 10_000_000, maxBytes: budget, maxAge: 600_000 })
  bounded.turnOn()
  fill(bounded, 200_000)
  const settled = heap()
  fill(bounded, 800_000, 200_000)
  const grown = heap() - settled
  console.log(`budget 8 MiB, 1,000,000 distinct keys: ${bounded.size} entries kept, estimate ${(bounded.bytes / 2 ** 20).toFixed(1)} MiB, ${bounded.counters.evictions} evicted, heap growth over the last 800,000: ${(grown / 2 ** 20).toFixed(1)} MiB`)
  // What a miss's store costs once the cache is full (each store evicts the
  // least recently used): it must not grow with the cache's size.
  const full = [10_000, 100_000, 1_000_000].map((size) => {
    const cache = new DecisionCache({ maxEntries: size, maxBytes: 2 ** 40, maxAge: 600_000 })
    cache.turnOn()
    fill(cache, size)
    return { size, cache, offset: size, times: [] as number[] }
  })
  for (let round = 0; round < 5; round++) {
    for (const f of full) {
      const started = performance.now()
      fill(f.cache, 100_000, f.offset)
      f.offset += 100_000
      f.times.push((performance.now() - started) * 1000 / 100_000)
    }
  }
  console.log(`a store into a full cache (100,000 stores, 5 rounds interleaved, median; the key built included): ${full.map((f) => `${f.size.toLocaleString('en')} entries ${median(f.times).toFixed(2)} µs`).join(', ')}`)
}

async function main (): Promise<void> {
  const backend = usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), database: ${backend}`)
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds, the order rotating each round; 100 ids, half readable\n`)
  // BENCH_PARTS=revocation,memory runs only those parts.
  const parts = (process.env.BENCH_PARTS ?? 'throughput,revocation,memory').split(',')
  if (parts.includes('throughput')) await throughput()
  if (parts.includes('revocation')) await revocation()
  if (parts.includes('memory')) await memory()
  if (missed > 0 && !REPORT_ONLY) {
    console.log(`\n${missed} target(s) missed (BENCH_REPORT_ONLY=1 or --report-only reports without failing)`)
    process.exitCode = 1
  }
}

if (process.argv.includes('--serve')) await serve()
else await main()
