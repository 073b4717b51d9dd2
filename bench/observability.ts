// What observability costs the route check, measured side by side in one
// interleaved run:
//   on / off:      the same route with traces (an OpenTelemetry SDK with a
//                  batch processor and a no-op exporter) and metrics on a
//                  prom-client registry, against traces off and no registry;
//                  same process, same world.
//   absent / today: this code with @opentelemetry/api and prom-client
//                  unresolvable, against the code before observability
//                  existed (exported with `git archive` from the parent of
//                  the commit that added lib/observability/, or
//                  BENCH_BASELINE_REF); one process each, same world size.
//
//   npx tsx bench/observability.ts
//   DATABASE_URL=postgres://… npx tsx bench/observability.ts
//
// BENCH_GRANTS (default 100,000), BENCH_ROUNDS (3), BENCH_DURATION (seconds,
// 4) and BENCH_CONNECTIONS (10) tune the run.
import { execFileSync, execSync, fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import autocannon from 'autocannon'
import { median } from './child.js'
import { BENCH_GROUPS, BENCH_USER, readable, seedWorld, worldSize } from './world.js'

const GRANTS = Number(process.env.BENCH_GRANTS ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const usingPostgres = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ''
const ROOT = fileURLToPath(new URL('..', import.meta.url))

type Variant = 'current' | 'absent' | 'baseline'

// ---------------------------------------------------------------- child ----

async function serve (variant: Variant, base: string): Promise<void> {
  const secret = process.env.BENCH_SECRET as string
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { sql } = await import('kysely')
  const lib = variant === 'baseline' ? pathToFileURL(join(base, 'lib/index.ts')).href : '../lib/index.js'
  const pglite = variant === 'baseline' ? pathToFileURL(join(base, 'lib/store/pglite.ts')).href : '../lib/store/pglite.js'
  const { default: defaultDeny, runMigrations, postgresKysely } = await import(lib) as typeof import('../lib/index.js')
  const { createPGliteKysely } = await import(pglite) as typeof import('../lib/store/pglite.js')

  const schema = `dd_bench_obs_${variant}_${process.pid}`
  const db = usingPostgres ? postgresKysely(process.env.DATABASE_URL as string, { max: CONNECTIONS, genericPlans: true }) : await createPGliteKysely()
  await runMigrations(db, { schema })
  await seedWorld(db, schema, worldSize(GRANTS))

  const app = Fastify({ logger: false })
  await app.register(jwt, { secret, verify: { algorithms: ['HS256'] } })
  const route = (scope: import('fastify').FastifyInstance, url: string) =>
    scope.get(url, { config: { permission: { resource: 'document', privilege: 'read' } } }, async (request) => ({ id: (request.params as { id: string }).id }))
  let shutdown = async () => {}
  if (variant === 'current') {
    const { trace, context } = await import('@opentelemetry/api')
    const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
    const { Registry } = await import('prom-client')
    const exporter = { export: (_spans: unknown, done: (result: { code: number }) => void) => { done({ code: 0 }) }, shutdown: async () => {} }
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(provider)
    shutdown = async () => { await provider.shutdown() }
    const registry = new Registry()
    await app.register(async (scope) => {
      await scope.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, observability: { registry } })
      route(scope, '/on/:id')
    })
    await app.register(async (scope) => {
      await scope.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, observability: { traces: false } })
      route(scope, '/off/:id')
    })
  } else {
    await app.register(async (scope) => {
      await scope.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false })
      route(scope, `/${variant}/:id`)
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const close = async () => {
    await app.close()
    await shutdown()
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
  })
  process.on('disconnect', () => { void close() })
  process.send?.({ kind: 'ready', port: (app.server.address() as { port: number }).port })
}

// --------------------------------------------------------------- parent ----

interface Server { child: ChildProcess, port: number }

function start (variant: Variant, base: string, secret: string): Promise<Server> {
  const blocked = variant === 'absent' ? ['--import', join(ROOT, 'test/fixtures/block-peers.mjs')] : []
  const child = fork(fileURLToPath(import.meta.url), ['--serve', variant, base], {
    execArgv: [...process.execArgv, ...blocked],
    env: { ...process.env, BENCH_SECRET: secret },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => { resolve({ child, port: m.port }) })
    child.once('exit', (code) => { reject(new Error(`${variant} server exited with ${code}`)) })
  })
}

function cpuOf (server: Server): Promise<number> {
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

/** The code before observability: the parent of the commit that added lib/observability/. */
function baselineRef (): string {
  if (process.env.BENCH_BASELINE_REF !== undefined) return process.env.BENCH_BASELINE_REF
  const added = execFileSync('git', ['log', '--diff-filter=A', '--format=%H', '--', 'lib/observability/index.ts'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()
  return `${added as string}^`
}

function exportBaseline (ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dd-bench-baseline-'))
  execSync(`git archive ${ref} lib migrations sql package.json fastify-plugin.d.ts tsconfig.json | tar -x -C ${dir}`, { cwd: ROOT })
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

function ids (): string[] {
  const yes: string[] = []
  const no: string[] = []
  for (let i = 0; yes.length < 50 || no.length < 50; i += 37) {
    if (readable(i)) { if (yes.length < 50) yes.push(`doc${i}`) } else if (no.length < 50) no.push(`doc${i}`)
  }
  return yes.flatMap((id, i) => [id, no[i] as string])
}

async function main (): Promise<void> {
  const ref = baselineRef()
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT, encoding: 'utf8' }).trim()
  const base = exportBaseline(ref)
  const secret = randomBytes(32).toString('base64url')
  const { createSigner } = await import('fast-jwt')
  const token = createSigner({ key: secret, algorithm: 'HS256' })({ sub: BENCH_USER, groups: BENCH_GROUPS })
  console.log(`node ${process.version}, ${cpus().length} CPUs, database: ${usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'}`)
  console.log(`world: ${GRANTS} grants per process; baseline ("today"): ${commit}; autocannon ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds rotating\n`)
  const servers = {
    current: await start('current', base, secret),
    absent: await start('absent', base, secret),
    baseline: await start('baseline', base, secret)
  }
  const cases = [
    { name: 'traces + metrics on', server: servers.current, prefix: '/on' },
    { name: 'off (same process)', server: servers.current, prefix: '/off' },
    { name: 'peers absent', server: servers.absent, prefix: '/absent' },
    { name: 'today (before observability)', server: servers.baseline, prefix: '/baseline' }
  ]
  const sample = ids()
  const drive = async (c: typeof cases[number], duration: number) => {
    const before = await cpuOf(c.server)
    const result = await autocannon({
      url: `http://127.0.0.1:${c.server.port}`,
      connections: CONNECTIONS,
      duration,
      requests: sample.map((id) => ({ method: 'GET', path: `${c.prefix}/${id}`, headers: { authorization: `Bearer ${token}` } }))
    })
    if (result.errors > 0 || result.timeouts > 0 || result['2xx'] === 0 || result.non2xx === 0) {
      throw new Error(`${c.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result['2xx']} 2xx, ${result.non2xx} non-2xx`)
    }
    return { rate: result.requests.average, cpu: (await cpuOf(c.server) - before) / result.requests.total }
  }
  try {
    for (const c of cases) await drive(c, 2)
    const rates = new Map(cases.map((c) => [c.name, [] as number[]]))
    const cpu = new Map(cases.map((c) => [c.name, [] as number[]]))
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % cases.length
      for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) {
        const { rate, cpu: perRequest } = await drive(c, DURATION)
        rates.get(c.name)?.push(rate)
        cpu.get(c.name)?.push(perRequest)
      }
    }
    const med = (name: string) => median(rates.get(name) as number[])
    for (const c of cases) {
      console.log(`${c.name.padEnd(32)} ${(rates.get(c.name) as number[]).map((n) => n.toFixed(0)).join(' / ').padEnd(26)} median ${med(c.name).toFixed(0).padStart(6)} req/s, server CPU ${median(cpu.get(c.name) as number[]).toFixed(1).padStart(5)} µs/request`)
    }
    const verdict = (ok: boolean) => ok ? 'meets' : 'MISSES'
    const on = med('traces + metrics on') / med('off (same process)')
    const absent = med('peers absent') / med('today (before observability)')
    console.log('\ntargets:')
    console.log(`  traces + metrics on / off:   ${on.toFixed(3)}  (≥ 0.95: ${verdict(on >= 0.95)})`)
    console.log(`  peers absent / today:        ${absent.toFixed(3)}  (≥ 0.99: ${verdict(absent >= 0.99)})`)
  } finally {
    for (const server of Object.values(servers)) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve))
      server.child.send({ kind: 'close' })
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
      if (server.child.exitCode === null) server.child.kill()
    }
    rmSync(base, { recursive: true, force: true })
  }
}

const at = process.argv.indexOf('--serve')
if (at >= 0) await serve(process.argv[at + 1] as Variant, process.argv[at + 2] as string)
else await main()
