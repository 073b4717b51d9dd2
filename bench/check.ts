// The route check against its anchor: the same route running one hand-written
// prepared query that makes the same decision. One child process on
// 127.0.0.1 serves every variant on one seeded world (see bench/world.ts);
// autocannon in this process drives them in interleaved rounds.
//
//   npx tsx bench/check.ts                                    # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/check.ts
//
// BENCH_GRANTS (default 1,000,000), BENCH_ROUNDS (3), BENCH_DURATION
// (seconds, 4), BENCH_CONNECTIONS (10) and BENCH_SAMPLES (single-client
// calls per side, 4000) tune the run; BENCH_ONLY=regex runs only the cases
// whose name matches it (for profiling with BENCH_CPU_PROF=dir). On
// PostgreSQL the plugin on an embedded PGlite with the same world runs in the
// same rounds (BENCH_PGLITE=0 leaves it out). A missed target exits 1 unless
// BENCH_REPORT_ONLY=1 (or --report-only).
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { BENCH_GROUPS, BENCH_USER, readable, seedWorld, worldSize } from './world.js'

const SECRET = randomBytes(32).toString('base64url')
const GRANTS = Number(process.env.BENCH_GRANTS ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 4000)
const usingPostgres = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ''
const REPORT_ONLY = process.argv.includes('--report-only') || (process.env.BENCH_REPORT_ONLY ?? '') !== ''

// The anchor: what a developer would write by hand for "may u read document
// d", prepared once. The owner probe is in because owners hold `read` by default.
const ANCHOR = (schema: string) => `select exists (
  select 1 from "${schema}".default_deny_grant where resource_type = $1 and resource_id = $2 and privilege = any($3::text[])
    and (principal_kind = 'anonymous' or (principal_kind = 'user' and principal_id = $4) or (principal_kind = 'group' and principal_id = any($5::text[])))
    and (expires_at is null or expires_at > now())
  union all select 1 from "${schema}".default_deny_resource where resource_type = $1 and resource_id = $2 and owner_id = $4
  union all select 1 from "${schema}".default_deny_grant where resource_type = $1 and resource_id is null and principal_kind = 'user' and principal_id = $4 and privilege = any($3::text[]) and (expires_at is null or expires_at > now())
  union all select 1 from "${schema}".default_deny_grant where resource_type = $1 and resource_id is null and principal_kind = 'group' and principal_id = any($5::text[]) and privilege = any($3::text[]) and (expires_at is null or expires_at > now())
  union all select 1 from "${schema}".default_deny_grant where resource_type = $1 and resource_id is null and principal_kind = 'anonymous' and privilege = any($3::text[]) and (expires_at is null or expires_at > now())
) as allowed`

const FORBIDDEN = { statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden', message: 'Forbidden' }

// ---------------------------------------------------------------- child ----

async function serve (): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { Kysely, PostgresDialect, sql } = await import('kysely')
  const { default: defaultDeny, runMigrations, postgresKysely, guardPool, kyselyPool } = await import('../lib/index.js')
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGlitePool } = await import('../lib/store/pglite.js')
  const { declareCapabilities } = await import('../lib/store/database.js')
  const { default: pg } = await import('pg')

  const schema = `dd_bench_check_${process.pid}`
  const url = process.env.DATABASE_URL as string
  const text = ANCHOR(schema)
  let db: InstanceType<typeof Kysely<any>>
  let anchor: (user: string, groups: string[], id: string) => Promise<boolean>
  let closeAnchor = async () => {}
  if (usingPostgres) {
    // Both planned generically, as the pool the plugin owns is (and as PGlite's are, below).
    db = postgresKysely(url, { max: CONNECTIONS, genericPlans: true })
    const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS, options: '-c plan_cache_mode=force_generic_plan' })
    anchor = async (user, groups, id) =>
      (await pool.query({ name: 'anchor', text, values: ['document', id, ['read'], user, groups] })).rows[0].allowed === true
    closeAnchor = async () => { await pool.end() }
  } else {
    const pglite = await PGlite.create()
    const pool = new PGlitePool(pglite)
    db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
    declareCapabilities(db, { direct: pool.run, listen: pool.listen, embedded: true })
    // Prepared too, the fastest way PGlite offers: parse once, then bind and
    // execute over its wire protocol. The anchor must take its turn on the
    // one connection like everything else, so it goes through the pool.
    const { serialize } = await import('pg-protocol')
    const array = (values: string[]) => `{${values.map((v) => `"${v}"`).join(',')}}`
    let parsed = false
    anchor = async (user, groups, id) => {
      const connection = await pool.connect()
      try {
        if (!parsed) {
          await pglite.execProtocol(Buffer.concat([serialize.parse({ name: 'anchor', text, types: [] }), serialize.sync()]))
          parsed = true
        }
        // Bound under the generic plan, as the plugin's check is: PGlite would
        // otherwise plan it anew on every call (see lib/store/pglite.ts).
        const bind = serialize.bind({ statement: 'anchor', values: ['document', id, '{read}', user, array(groups)] })
        const { messages } = await pglite.execProtocol(Buffer.concat([
          serialize.query('set plan_cache_mode = force_generic_plan'), bind, serialize.execute({}), serialize.sync(), serialize.query('reset plan_cache_mode')
        ]))
        const row = messages.find((m) => m.name === 'dataRow') as unknown as { fields: string[] } | undefined
        return row?.fields[0] === 't'
      } finally {
        connection.release()
      }
    }
  }
  await runMigrations(db, { schema })
  const started = Date.now()
  await seedWorld(db, schema, worldSize(GRANTS))
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'default_deny_grant')}`.execute(db)
  const seeded = { grants: rows[0]?.n ?? 0, seconds: (Date.now() - started) / 1000 }

  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id
  // Without the plugin: the bare route, token verification only, and the anchor.
  await app.register(async (plain) => {
    plain.get('/bare/:id', async (request) => ({ id: idOf(request) }))
    plain.get('/jwt/:id', async (request) => {
      await request.jwtVerify()
      return { id: idOf(request) }
    })
    plain.get('/anchor/:id', async (request, reply) => {
      const claims = await request.jwtVerify<{ sub: string, groups: string[] }>()
      if (!await anchor(claims.sub, claims.groups, idOf(request))) return await reply.code(403).send(FORBIDDEN)
      return { id: idOf(request) }
    })
  })
  // With the plugin, in its own scope so its hook runs on this route only.
  let permissions!: typeof app.permissions
  await app.register(async (guarded) => {
    await guarded.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false })
    guarded.get('/authenticated/:id', { config: { permission: 'authenticated' } }, async (request) => ({ id: idOf(request) }))
    guarded.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } },
      async (request) => ({ id: idOf(request) }))
    permissions = guarded.permissions
  })
  // The same route with stored groups off (`groupDepth: 0`): what the
  // membership walk costs a check, in the same run.
  let flat!: typeof app.permissions
  await app.register(async (guarded) => {
    await guarded.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, groupDepth: 0 })
    guarded.get('/flat/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: idOf(request) }))
    flat = guarded.permissions
  })
  // On PostgreSQL, the same route when the host hands the plugin a Kysely of
  // its own: on a plain pg pool (an unnamed statement, parsed and planned
  // every time), and on the same pool through kyselyPool (prepared).
  const hostPools: Array<InstanceType<typeof pg.Pool>> = []
  if (usingPostgres) {
    for (const [prefix, prepared] of [['/host-kysely', false], ['/host-kyselypool', true]] as const) {
      const pool = guardPool(new pg.Pool({ connectionString: url, max: CONNECTIONS }))
      hostPools.push(pool)
      const hostDb = new Kysely<any>({ dialect: new PostgresDialect({ pool: prepared ? kyselyPool(pool) : pool }) })
      await app.register(async (host) => {
        await host.register(defaultDeny, { db: hostDb, schema, migrate: false, grantRoutes: false })
        host.get(`${prefix}/:id`, { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: idOf(request) }))
      })
    }
  }
  // On PostgreSQL, the fourth way of giving the plugin a database in the
  // same run: the embedded PGlite (`createPGliteKysely`), seeded with the same
  // world. BENCH_PGLITE=0 leaves it out (it seeds for another half minute).
  let embedded: InstanceType<typeof Kysely<any>> | null = null
  if (usingPostgres && process.env.BENCH_PGLITE !== '0') {
    const { createPGliteKysely } = await import('../lib/store/pglite.js')
    embedded = await createPGliteKysely()
    await runMigrations(embedded, { schema })
    await seedWorld(embedded, schema, worldSize(GRANTS))
    const pgliteDb = embedded
    await app.register(async (host) => {
      await host.register(defaultDeny, { db: pgliteDb, schema, migrate: false, grantRoutes: false })
      host.get('/embedded/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: idOf(request) }))
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })

  const close = async () => {
    await app.close()
    await embedded?.destroy()
    await closeAnchor()
    for (const pool of hostPools) await pool.end()
    if (usingPostgres) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
    await db.destroy()
    process.exit(0)
  }
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'close') void close()
    if (message.kind === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send?.({ kind: 'cpu', micros: user + system })
    }
    if (message.kind === 'latency') void latency().then((result) => process.send?.({ kind: 'latency', ...result }))
  })
  process.on('disconnect', () => { void close() })

  // Single client: the service API's check against the anchor query, in
  // alternating blocks, half the ids readable.
  async function latency (): Promise<Latency> {
    const principal = { kind: 'user' as const, id: BENCH_USER, groups: BENCH_GROUPS, superuser: false, claims: null }
    const ids = sampleIds()
    const times = { check: [] as number[], anchor: [] as number[], flat: [] as number[] }
    const sides = ['check', 'anchor', 'flat'] as const
    for (let block = 0; block < SAMPLES / 100; block++) {
      for (const side of [...sides.slice(block % 3), ...sides.slice(0, block % 3)]) {
        for (let i = 0; i < 100; i++) {
          const id = ids[(block * 100 + i) % ids.length] as string
          const t0 = process.hrtime.bigint()
          if (side === 'check') await permissions.check(principal, { resource: 'document', id, privilege: 'read' })
          else if (side === 'flat') await flat.check(principal, { resource: 'document', id, privilege: 'read' })
          else await anchor(BENCH_USER, BENCH_GROUPS, id)
          times[side].push(Number(process.hrtime.bigint() - t0) / 1000)
        }
      }
    }
    // Batch: 100 ids in one checkMany, against one check and against 100
    // checks one after the other.
    // Each single check of those rounds is timed too: checkMany(100) is
    // compared with the checks of the same ids, run side by side with it.
    const hundred = Array.from({ length: 100 }, (_, i) => ids[i % ids.length] as string)
    const batch: number[] = []
    const sequential: number[] = []
    const singles: number[] = []
    // This process's CPU time too (all of it with PGlite, the client's part
    // with PostgreSQL): on a loaded machine the wall time of a long call is
    // stretched by the scheduler more often than that of a short one.
    let batchCpu = 0
    let singlesCpu = 0
    const rounds = Math.max(30, SAMPLES / 50)
    for (let round = 0; round < rounds; round++) {
      const cpu0 = process.cpuUsage()
      let t0 = process.hrtime.bigint()
      await permissions.checkMany(principal, { resource: 'document', privilege: 'read', ids: hundred })
      batch.push(Number(process.hrtime.bigint() - t0) / 1000)
      const cpu1 = process.cpuUsage(cpu0)
      batchCpu += cpu1.user + cpu1.system
      const cpu2 = process.cpuUsage()
      t0 = process.hrtime.bigint()
      for (const id of hundred) {
        const t1 = process.hrtime.bigint()
        await permissions.check(principal, { resource: 'document', id, privilege: 'read' })
        singles.push(Number(process.hrtime.bigint() - t1) / 1000)
      }
      sequential.push(Number(process.hrtime.bigint() - t0) / 1000)
      const cpu3 = process.cpuUsage(cpu2)
      singlesCpu += cpu3.user + cpu3.system
    }
    return { check: median(times.check), anchor: median(times.anchor), flat: median(times.flat), checkMany100: median(batch), check100: median(sequential), checkBeside: median(singles), batchCpu: batchCpu / rounds, checkCpu: singlesCpu / rounds / hundred.length }
  }

  const address = app.server.address() as { port: number }
  process.send?.({ kind: 'ready', port: address.port, token: app.jwt.sign({ sub: BENCH_USER, groups: BENCH_GROUPS }), seeded })
}

// --------------------------------------------------------------- shared ----

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** 50 readable and 50 unreadable document ids, alternating, spread over the world. */
function sampleIds (allowed = true, denied = true): string[] {
  const documents = worldSize(GRANTS).documents
  const yes: string[] = []
  const no: string[] = []
  for (let i = 0; i < documents && (yes.length < 50 || no.length < 50); i += 37) {
    if (readable(i)) { if (yes.length < 50) yes.push(`doc${i}`) } else if (no.length < 50) no.push(`doc${i}`)
  }
  for (let i = 0; yes.length < 50; i += 50) yes.push(`doc${i}`)
  return yes.flatMap((id, i) => [...(allowed ? [id] : []), ...(denied ? [no[i] as string] : [])])
}

// --------------------------------------------------------------- parent ----

interface Latency { check: number, anchor: number, flat: number, checkMany100: number, check100: number, checkBeside: number, batchCpu: number, checkCpu: number }

interface Server { child: ChildProcess, port: number, token: string, seeded: { grants: number, seconds: number } }

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

interface Case { name: string, prefix: string, ids: string[], token: boolean, expect: 'mixed' | '2xx' | '403' }

/** The server process's CPU time so far, in µs. */
function serverCpu (server: Server): Promise<number> {
  return new Promise((resolve) => {
    const listener = (m: { kind: string, micros: number }) => {
      if (m.kind !== 'cpu') return
      server.child.off('message', listener)
      resolve(m.micros)
    }
    server.child.on('message', listener)
    server.child.send({ kind: 'cpu' })
  })
}

/** Requests per second, and the server's CPU time per request in µs. */
async function drive (server: Server, c: Case, duration = DURATION): Promise<{ rate: number, cpu: number }> {
  const cpuBefore = await serverCpu(server)
  const headers: Record<string, string> = c.token ? { authorization: `Bearer ${server.token}` } : {}
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration,
    requests: c.ids.map((id) => ({ method: 'GET', path: `${c.prefix}/${id}`, headers }))
  })
  const ok = result['2xx']
  const wrong = c.expect === '2xx' ? result.non2xx : c.expect === '403' ? ok : (ok === 0 || result.non2xx === 0 ? 1 : 0)
  if (result.errors > 0 || result.timeouts > 0 || wrong > 0) {
    throw new Error(`${c.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${ok} 2xx, ${result.non2xx} non-2xx (expected ${c.expect})`)
  }
  const cpu = (await serverCpu(server) - cpuBefore) / result.requests.total
  return { rate: result.requests.average, cpu }
}

async function main (): Promise<void> {
  const backend = usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), database: ${backend}`)
  const server = await start()
  console.log(`world: ${server.seeded.grants} grants (seeded in ${server.seeded.seconds.toFixed(0)} s); user ${BENCH_USER} in ${BENCH_GROUPS.join(', ')}`)
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds, the order rotating each round\n`)
  const mixed = sampleIds()
  const cases: Case[] = [
    { name: 'bare route', prefix: '/bare', ids: mixed, token: false, expect: '2xx' },
    { name: 'jwtVerify only', prefix: '/jwt', ids: mixed, token: true, expect: '2xx' },
    { name: 'plugin, authenticated route (no query)', prefix: '/authenticated', ids: mixed, token: true, expect: '2xx' },
    { name: 'anchor: jwtVerify + prepared query', prefix: '/anchor', ids: mixed, token: true, expect: 'mixed' },
    { name: 'anchor, allowed ids only (200)', prefix: '/anchor', ids: sampleIds(true, false), token: true, expect: '2xx' },
    { name: 'anchor, denied ids only (403)', prefix: '/anchor', ids: sampleIds(false, true), token: true, expect: '403' },
    { name: 'plugin', prefix: '/documents', ids: mixed, token: true, expect: 'mixed' },
    { name: 'plugin, groupDepth 0 (no walk)', prefix: '/flat', ids: mixed, token: true, expect: 'mixed' },
    ...(usingPostgres
      ? [
          { name: 'plugin on a host Kysely (plain pg pool)', prefix: '/host-kysely', ids: mixed, token: true, expect: 'mixed' as const },
          { name: 'plugin on a host Kysely (kyselyPool)', prefix: '/host-kyselypool', ids: mixed, token: true, expect: 'mixed' as const },
          ...(process.env.BENCH_PGLITE !== '0' ? [{ name: 'plugin on embedded PGlite', prefix: '/embedded', ids: mixed, token: true, expect: 'mixed' as const }] : [])
        ]
      : []),
    { name: 'plugin, allowed ids only (200)', prefix: '/documents', ids: sampleIds(true, false), token: true, expect: '2xx' },
    { name: 'plugin, denied ids only (403)', prefix: '/documents', ids: sampleIds(false, true), token: true, expect: '403' }
  ]
  const only = process.env.BENCH_ONLY
  if (only !== undefined) cases.splice(0, cases.length, ...cases.filter((c) => new RegExp(only).test(c.name)))
  let missed = 0
  try {
    for (const c of cases) await drive(server, c, 2)
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
    const med = (name: string) => median(runs.get(name) as number[])
    for (const c of cases) {
      console.log(`${c.name.padEnd(40)} ${(runs.get(c.name) as number[]).map((n) => n.toFixed(0)).join(' / ').padEnd(26)} median ${med(c.name).toFixed(0).padStart(6)} req/s, server CPU ${median(cpu.get(c.name) as number[]).toFixed(1).padStart(5)} µs/request`)
    }
    if (only !== undefined) return
    const latency = await new Promise<Latency>((resolve) => {
      server.child.on('message', (m: Latency & { kind: string }) => { if (m.kind === 'latency') resolve(m) })
      server.child.send({ kind: 'latency' })
    })
    const verdict = (ok: boolean) => {
      if (!ok) missed++
      return ok ? 'meets' : 'MISSES'
    }
    const route = med('plugin') / med('anchor: jwtVerify + prepared query')
    const deny = med('plugin, denied ids only (403)') / med('plugin, allowed ids only (200)')
    const single = latency.check / latency.anchor
    console.log(`\nsingle client, ${SAMPLES} calls each: check() p50 ${latency.check.toFixed(0)} µs, anchor query p50 ${latency.anchor.toFixed(0)} µs, check() with groupDepth 0 p50 ${latency.flat.toFixed(0)} µs`)
    console.log(`single client: checkMany(100 ids) p50 ${latency.checkMany100.toFixed(0)} µs; 100 check() calls in a row p50 ${latency.check100.toFixed(0)} µs (one of them p50 ${latency.checkBeside.toFixed(0)} µs); this process's CPU time: checkMany ${latency.batchCpu.toFixed(0)} µs, one check ${latency.checkCpu.toFixed(0)} µs`)
    console.log('\ntargets:')
    console.log(`  plugin / anchor route:        ${route.toFixed(3)}  (≥ 0.90: ${verdict(route >= 0.9)})`)
    if (usingPostgres) {
      // Every way the README's table gives the plugin a database, against the same anchor.
      for (const name of ['plugin', 'plugin on a host Kysely (plain pg pool)', 'plugin on a host Kysely (kyselyPool)', 'plugin on embedded PGlite']) {
        if (!runs.has(name)) continue
        const r = med(name) / med('anchor: jwtVerify + prepared query')
        console.log(`  ${`${name} / anchor:`.padEnd(52)} ${r.toFixed(3)}  (≥ 0.85: ${verdict(r >= 0.85)})`)
      }
    }
    console.log(`  check() p50 / anchor p50:     ${single.toFixed(3)}  (≤ 1.30: ${verdict(single <= 1.3)})`)
    console.log(`  (groupDepth 0: route / anchor ${(med('plugin, groupDepth 0 (no walk)') / med('anchor: jwtVerify + prepared query')).toFixed(3)}, check() p50 / anchor p50 ${(latency.flat / latency.anchor).toFixed(3)})`)
    const batchVsOne = latency.checkMany100 / latency.checkBeside
    const batchVsHundred = latency.check100 / latency.checkMany100
    console.log(`  checkMany(100) / one check:   ${batchVsOne.toFixed(2)}  (≤ 3: ${verdict(batchVsOne <= 3)}; this process's CPU time ${(latency.batchCpu / latency.checkCpu).toFixed(2)})`)
    console.log(`  100 checks / checkMany(100):  ${batchVsHundred.toFixed(1)}  (≥ 20: ${verdict(batchVsHundred >= 20)})`)
    console.log(`  403 path / 200 path:          ${deny.toFixed(3)}  (≥ 1.00: ${verdict(deny >= 1)})`)
    const anchorDeny = med('anchor, denied ids only (403)') / med('anchor, allowed ids only (200)')
    console.log(`  (the anchor's own 403 / 200:  ${anchorDeny.toFixed(3)}: a denial probes every branch, an allow stops at the first hit)`)
    if (missed > 0 && !REPORT_ONLY) {
      console.log(`\n${missed} target(s) missed (BENCH_REPORT_ONLY=1 or --report-only reports without failing)`)
      process.exitCode = 1
    }
  } finally {
    const exited = new Promise((resolve) => server.child.once('exit', resolve))
    server.child.send({ kind: 'close' })
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
    if (server.child.exitCode === null) server.child.kill()
  }
}

if (process.argv.includes('--serve')) await serve()
else await main()
