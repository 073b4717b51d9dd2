// The route against node-casbin, the library a user would pick instead: the
// same `GET /documents/:id` with the same HS256 token on the same seeded
// world (bench/world.ts), deciding once through the plugin (PostgreSQL on
// every request) and once through casbin's in-memory model, loaded from the
// same rows at startup. One child process per world size serves every
// variant on 127.0.0.1; autocannon in this process drives them in
// interleaved rounds.
//
//   npx tsx bench/casbin.ts                                    # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/casbin.ts
//
// BENCH_CASBIN_SIZES (grants, default "10000,100000"), BENCH_ROUNDS (3),
// BENCH_DURATION (seconds, 4), BENCH_CONNECTIONS (10) and
// BENCH_CASBIN_SAMPLES (single-client calls per side, 20) tune the run.
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import type { Enforcer } from 'casbin'
import type { Kysely } from 'kysely'
import { BENCH_GROUPS, BENCH_USER, readable, seedWorld, worldSize } from './world.js'

const SECRET = randomBytes(32).toString('base64url')
const SIZES = (process.env.BENCH_CASBIN_SIZES ?? '10000,100000').split(',').map(Number)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const SAMPLES = Number(process.env.BENCH_CASBIN_SAMPLES ?? 20)
const usingPostgres = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ''

// The policy both sides run, passed to the plugin explicitly and translated
// into casbin's model below, so changing one changes both. These are the
// plugin's defaults, which bench/check.ts uses: independent privileges, and
// owners holding every privilege (`manage` included, which the plugin adds).
const PRIVILEGES = ['read', 'edit', 'delete'] as const
const IMPLIES: Record<string, string[]> = {}
const OWNER_PRIVILEGES = [...PRIVILEGES, 'manage']

// Grantees become casbin subjects with a kind prefix, because a user and a
// group with the same id are different principals in the plugin. A
// type-level grant (resource id NULL) becomes the id '', which no resource
// can have (the plugin refuses empty ids). Ownership is the pseudo-privilege
// `owner`, which g2 expands into the owner privileges, so an owned resource
// costs one policy row rather than one per privilege; g2 also carries
// `implies`, so the matcher's g2(p.act, r.act) is "the held privilege
// satisfies the required one". The id comparison comes first because it
// rejects almost every row and casbin's && short-circuits.
const OWNER = 'owner'
const MODEL = `
[request_definition]
r = sub, typ, id, act

[policy_definition]
p = sub, typ, id, act

[role_definition]
g = _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (r.id == p.id || p.id == "") && r.typ == p.typ && (p.sub == "anonymous" || g(r.sub, p.sub)) && g2(p.act, r.act)
`

interface Who { kind: 'user' | 'anonymous', id: string | null, groups: string[] }

const subject = (who: Who) => who.kind === 'anonymous' ? 'anonymous' : `user:${who.id as string}`

// The principals whose decisions are compared before anything is measured:
// the benchmark user, a user holding a type-level read on documents, a user
// with grants of every privilege and groups with grants, and anonymous.
const VERIFIED: Who[] = [
  { kind: 'user', id: BENCH_USER, groups: BENCH_GROUPS },
  { kind: 'user', id: 'u100', groups: [] },
  { kind: 'user', id: 'u137', groups: ['g12', 'g13'] },
  { kind: 'anonymous', id: null, groups: [] }
]

interface Loaded { policies: number, links: number, readMs: number, buildMs: number, rssBefore: number, rssAfter: number, heapDelta: number }

const FORBIDDEN = { statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden', message: 'Forbidden' }

// ---------------------------------------------------------------- child ----

/**
 * Reads the live grants and the owners from the plugin's tables into a new
 * enforcer. Done by hand rather than through a casbin adapter package: the
 * rows are the plugin's own tables, not casbin's casbin_rule layout, so an
 * adapter would need a copy of them in its format, and the in-memory model
 * is what casbin enforces against either way.
 */
async function loadCasbin (db: Kysely<any>, schema: string): Promise<{ enforcer: Enforcer, loaded: Loaded }> {
  const { newEnforcer, newModelFromString } = await import('casbin')
  const { sql } = await import('kysely')
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const rssBefore = process.memoryUsage().rss
  const heapBefore = process.memoryUsage().heapUsed
  const started = performance.now()
  // casbin has no notion of expiry or start: the rows not in effect now are
  // left out, so what is loaded is a snapshot, and a grant that expires (or
  // starts) later is not seen to until the policy is reloaded. The order is
  // a fixed shuffle: casbin stops at the first matching row, so a load order
  // that put the benchmark user's rows first or last would favour or handicap it.
  const grants = await sql<{ kind: string, principal: string, type: string, id: string | null, privilege: string }>`
    select principal_kind as kind, principal_id as principal, resource_type as type, resource_id as id, privilege
    from ${sql.id(schema, 'default_deny_grant')}
    where (expires_at is null or expires_at > now()) and (starts_at is null or starts_at <= now())
    order by md5(principal_kind || principal_id || resource_type || coalesce(resource_id, '') || privilege)`.execute(db)
  const owners = await sql<{ type: string, id: string, owner: string }>`
    select resource_type as type, resource_id as id, owner_id as owner from ${sql.id(schema, 'default_deny_resource')}
    where owner_id is not null order by md5(resource_type || resource_id)`.execute(db)
  const read = performance.now()
  const rules: string[][] = grants.rows.map((g) => [
    g.kind === 'anonymous' ? 'anonymous' : `${g.kind}:${g.principal}`, g.type, g.id ?? '', g.privilege
  ])
  if (OWNER_PRIVILEGES.length > 0) for (const o of owners.rows) rules.push([`user:${o.owner}`, o.type, o.id, OWNER])
  const enforcer = await newEnforcer(newModelFromString(MODEL))
  if (!await enforcer.addPolicies(rules)) throw new Error('casbin refused the policy rows (a duplicate row?)')
  // The plugin takes a user's groups from its token on each request; casbin
  // needs them as role links up front, so the verified principals' token
  // groups are loaded as g rules (a real deployment would load every user's).
  const links = VERIFIED.flatMap((who) => who.groups.map((group) => [subject(who), `group:${group}`]))
  if (links.length > 0) await enforcer.addGroupingPolicies(links)
  const implied = Object.entries(IMPLIES).flatMap(([holder, included]) => included.map((p) => [holder, p]))
  const owned = OWNER_PRIVILEGES.map((p) => [OWNER, p])
  if (implied.length + owned.length > 0) await enforcer.addNamedGroupingPolicies('g2', [...implied, ...owned])
  const built = performance.now()
  const policies = rules.length
  rules.length = 0
  gc?.()
  const loaded = {
    policies,
    links: links.length,
    readMs: read - started,
    buildMs: built - read,
    rssBefore,
    rssAfter: process.memoryUsage().rss,
    heapDelta: process.memoryUsage().heapUsed - heapBefore
  }
  return { enforcer, loaded }
}

async function serve (): Promise<void> {
  const size = Number(process.env.BENCH_CASBIN_SIZE)
  const { default: Fastify } = await import('fastify')
  const { default: jwt } = await import('@fastify/jwt')
  const { sql } = await import('kysely')
  const { default: defaultDeny, runMigrations } = await import('../lib/index.js')
  const { openDatabase } = await import('../lib/store/pglite.js')

  // Its own schema (and, on PGlite, its own in-memory database), so it never
  // meets another benchmark's or a test's tables.
  const schema = `dd_bench_casbin_${size}_${process.pid}`
  const db = await openDatabase(process.env.DATABASE_URL, undefined, CONNECTIONS)
  await runMigrations(db, { schema })
  const seedStarted = Date.now()
  await seedWorld(db, schema, worldSize(size))
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'default_deny_grant')}`.execute(db)
  const seeded = { grants: rows[0]?.n ?? 0, seconds: (Date.now() - seedStarted) / 1000 }
  const { enforcer, loaded } = await loadCasbin(db, schema)

  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  // Work still queued: a casbin check at 100k rows blocks the event loop
  // for a large fraction of a second, so requests autocannon has given up on
  // are still waiting in the sockets' buffers when it returns, and would be
  // charged to whichever case runs next. Counting requests in progress is not
  // enough (one not yet read counts for nothing), so the parent waits until
  // every connection has closed and no request is in progress.
  let active = 0
  let sockets = 0
  app.server.on('connection', (socket) => {
    sockets++
    socket.once('close', () => { sockets-- })
  })
  app.addHook('onRequest', async (_request, reply) => {
    active++
    reply.raw.once('close', () => { active-- })
  })
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id
  await app.register(async (plain) => {
    plain.get('/jwt/:id', async (request) => {
      await request.jwtVerify()
      return { id: idOf(request) }
    })
    // The token's groups are not read here: casbin holds them as g rules.
    plain.get('/casbin/:id', async (request, reply) => {
      const claims = await request.jwtVerify<{ sub: string }>()
      if (!await enforcer.enforce(`user:${claims.sub}`, 'document', idOf(request), 'read')) return await reply.code(403).send(FORBIDDEN)
      return { id: idOf(request) }
    })
    plain.get('/casbin-sync/:id', async (request, reply) => {
      const claims = await request.jwtVerify<{ sub: string }>()
      if (!enforcer.enforceSync(`user:${claims.sub}`, 'document', idOf(request), 'read')) return await reply.code(403).send(FORBIDDEN)
      return { id: idOf(request) }
    })
  })
  let permissions!: typeof app.permissions
  await app.register(async (guarded) => {
    await guarded.register(defaultDeny, {
      db, schema, migrate: false, grantRoutes: false, privileges: [...PRIVILEGES], implies: IMPLIES, ownerPrivileges: OWNER_PRIVILEGES
    })
    guarded.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } },
      async (request) => ({ id: idOf(request) }))
    permissions = guarded.permissions
  })
  await app.ready()

  const close = async () => {
    await app.close()
    if (usingPostgres) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
    await db.destroy()
    process.exit(0)
  }
  const principalOf = (who: Who) => ({ kind: who.kind, id: who.id, groups: who.groups, superuser: false, claims: who.kind === 'user' ? {} : null })

  // Before anything is measured: on every id the benchmark asks for, and on
  // ids allowed and denied for the other principals, casbin, the plugin and
  // (for the benchmark user) the seed's own rule must say the same.
  // enforce() and enforceSync() run the same matcher loop; the async one,
  // twice as slow at scale, is compared on a subset to keep startup short.
  async function verify (): Promise<string> {
    const { documents } = worldSize(size)
    const universe = [...Array.from({ length: documents }, (_, i) => `doc${i}`), ...Array.from({ length: 10 }, (_, i) => `pub${i}`)]
    const report: string[] = []
    for (const who of VERIFIED) {
      const principal = principalOf(who)
      let ids: string[]
      if (who.id === BENCH_USER) ids = sampleIds(size)
      else {
        const answers: boolean[] = []
        for (let i = 0; i < universe.length; i += 1000) {
          answers.push(...await permissions.checkMany(principal, { resource: 'document', privilege: 'read', ids: universe.slice(i, i + 1000) }))
        }
        const spread = (list: string[]) => list.filter((_, i) => i % Math.max(1, Math.floor(list.length / 15)) === 0).slice(0, 15)
        ids = [...spread(universe.filter((_, i) => answers[i])), ...spread(universe.filter((_, i) => !answers[i]))]
      }
      const plugin = await permissions.checkMany(principal, { resource: 'document', privilege: 'read', ids })
      let allowed = 0
      for (const [i, id] of ids.entries()) {
        const expected = plugin[i] as boolean
        const viaSync = enforcer.enforceSync(subject(who), 'document', id, 'read')
        const viaAsync = i % 5 === 0 ? await enforcer.enforce(subject(who), 'document', id, 'read') : viaSync
        const seed = who.id === BENCH_USER ? readable(Number(id.slice(3))) : expected
        if (viaSync !== expected || viaAsync !== expected || seed !== expected) {
          throw new Error(`casbin and the plugin disagree for ${subject(who)} on ${id}: plugin ${expected}, casbin enforceSync ${viaSync}, enforce ${viaAsync}${who.id === BENCH_USER ? `, the seed says ${seed}` : ''}`)
        }
        if (expected) allowed++
      }
      if (who.id === BENCH_USER && (allowed === 0 || allowed === ids.length)) throw new Error(`the sample for ${subject(who)} has only ${allowed === 0 ? 'denied' : 'allowed'} ids`)
      report.push(`${subject(who)} ${ids.length} ids (${allowed} allowed)`)
    }
    return report.join(', ')
  }

  // Single client, one call of each side in turn on the benchmark's ids.
  async function latency (): Promise<Record<string, number>> {
    const ids = sampleIds(size)
    const principal = principalOf(VERIFIED[0] as Who)
    const times: Record<string, number[]> = { plugin: [], enforce: [], enforceSync: [] }
    for (let i = 0; i < SAMPLES; i++) {
      const id = ids[i % ids.length] as string
      for (const side of ['plugin', 'enforce', 'enforceSync'] as const) {
        const t0 = performance.now()
        if (side === 'plugin') await permissions.check(principal, { resource: 'document', id, privilege: 'read' })
        else if (side === 'enforce') await enforcer.enforce(`user:${BENCH_USER}`, 'document', id, 'read')
        else enforcer.enforceSync(`user:${BENCH_USER}`, 'document', id, 'read')
        times[side]?.push((performance.now() - t0) * 1000)
      }
    }
    return Object.fromEntries(Object.entries(times).map(([side, values]) => [side, median(values)]))
  }

  let agreement: string
  try {
    agreement = await verify()
  } catch (error) {
    process.send?.({ kind: 'failed', message: (error as Error).message })
    await app.close()
    if (usingPostgres) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
    await db.destroy()
    process.exit(1)
  }

  await app.listen({ port: 0, host: '127.0.0.1' })
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'close') void close()
    if (message.kind === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send?.({ kind: 'cpu', micros: user + system })
    }
    if (message.kind === 'idle') {
      let quiet = 0
      const wait = () => {
        quiet = active === 0 && sockets === 0 ? quiet + 1 : 0
        if (quiet >= 5) process.send?.({ kind: 'idle' })
        else setTimeout(wait, 20)
      }
      wait()
    }
    if (message.kind === 'latency') void latency().then((result) => process.send?.({ kind: 'latency', ...result }))
  })
  process.on('disconnect', () => { void close() })
  // A last resort, should the parent die without the disconnect arriving.
  setTimeout(() => { void close() }, 60 * 60_000).unref()
  const address = app.server.address() as { port: number }
  process.send?.({ kind: 'ready', port: address.port, token: app.jwt.sign({ sub: BENCH_USER, groups: BENCH_GROUPS }), seeded, loaded, agreement })
}

// --------------------------------------------------------------- shared ----

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/**
 * 50 readable and 50 unreadable document ids, alternating, spread over the
 * world. Unlike bench/check.ts's pick, the readable ones are taken only
 * among the documents that exist: in the small worlds here, stepping on by
 * 50 runs past the last document, to ids the seed's rule calls readable but
 * that have no grant.
 */
function sampleIds (size: number, allowed = true, denied = true): string[] {
  const documents = worldSize(size).documents
  const all = Array.from({ length: documents }, (_, i) => i)
  const spread = (list: number[]) => Array.from({ length: 50 }, (_, i) => `doc${list[Math.floor(i * list.length / 50)] as number}`)
  const yes = spread(all.filter(readable))
  const no = spread(all.filter((i) => !readable(i) && i % 37 === 0))
  return yes.flatMap((id, i) => [...(allowed ? [id] : []), ...(denied ? [no[i] as string] : [])])
}

// --------------------------------------------------------------- parent ----

interface Server {
  child: ChildProcess
  port: number
  token: string
  seeded: { grants: number, seconds: number }
  loaded: Loaded
  agreement: string
}

function start (size: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // --expose-gc: the memory figures are taken after a full collection.
    const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
      execArgv: [...process.execArgv, '--expose-gc'],
      env: { ...process.env, BENCH_CASBIN_SIZE: String(size) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    let failure: string | undefined
    child.on('message', (message: { kind: string, message?: string } & Omit<Server, 'child'>) => {
      if (message.kind === 'ready') resolve({ child, ...message })
      if (message.kind === 'failed') failure = message.message
    })
    child.once('exit', (code) => reject(new Error(failure ?? `server exited with ${code}`)))
  })
}

function ask<T> (server: Server, kind: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (m: { kind: string }) => {
      if (m.kind !== kind) return
      server.child.off('message', listener)
      resolve(m as T)
    }
    server.child.on('message', listener)
    server.child.send({ kind })
  })
}

interface Case { name: string, prefix: string, ids: string[], expect: 'mixed' | '200' | '403' }

/** Requests per second (completed responses over the run's duration), and the server's CPU time per request in µs. */
async function drive (server: Server, c: Case, duration = DURATION): Promise<{ rate: number, cpu: number }> {
  const before = (await ask<{ micros: number }>(server, 'cpu')).micros
  const headers = { authorization: `Bearer ${server.token}` }
  // A long timeout: at 100k rows ten queued casbin checks take seconds.
  const options = {
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration,
    timeout: 120,
    requests: c.ids.map((id) => ({ method: 'GET', path: `${c.prefix}/${id}`, headers }))
  }
  const result = await autocannon(options)
  await ask(server, 'idle')
  const cpu = ((await ask<{ micros: number }>(server, 'cpu')).micros - before) / Math.max(1, result.requests.total)
  // Slow cases finish only a few requests per connection, all starting at
  // the same id, so a mixed run may see one status only; correctness was
  // checked id by id at startup. Anything but 200 and 403 is a failure.
  const codes = (result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats
  const allowed = c.expect === 'mixed' ? ['200', '403'] : [c.expect]
  const unexpected = Object.keys(codes).filter((code) => !allowed.includes(code))
  if (result.errors > 0 || result.timeouts > 0 || unexpected.length > 0) {
    throw new Error(`${c.name}: ${result.errors} errors, ${result.timeouts} timeouts, status codes ${JSON.stringify(codes)} (expected ${allowed.join(' or ')})`)
  }
  return { rate: result.requests.total / duration, cpu }
}

interface Summary { size: number, grants: number, rates: Map<string, number>, loaded: Loaded, latency: Record<string, number> }

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
const signedMb = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${mb(Math.abs(bytes))}`
const rate = (n: number) => n >= 100 ? n.toFixed(0) : n.toFixed(1)
const micros = (n: number) => n >= 10_000 ? `${(n / 1000).toFixed(0)} ms` : n >= 1000 ? `${(n / 1000).toFixed(1)} ms` : `${n.toFixed(0)} µs`

async function measure (size: number): Promise<Summary> {
  const server = await start(size)
  const { loaded } = server
  console.log(`world: ${size} grants asked, ${server.seeded.grants} seeded (${server.seeded.seconds.toFixed(0)} s), ${worldSize(size).documents} documents with owners`)
  console.log(`casbin: ${loaded.policies} policy rows (grants in effect + one per owned resource), ${loaded.links} g links; ` +
    `loaded in ${(loaded.readMs + loaded.buildMs).toFixed(0)} ms (rows read ${loaded.readMs.toFixed(0)} ms, enforcer built ${loaded.buildMs.toFixed(0)} ms)`)
  console.log(`casbin memory: rss ${mb(loaded.rssAfter)} MB after loading (${mb(loaded.rssBefore)} MB before: ${signedMb(loaded.rssAfter - loaded.rssBefore)} MB), JS heap ${signedMb(loaded.heapDelta)} MB`)
  console.log(`agreement (casbin = plugin, and = the seed for ${BENCH_USER}): ${server.agreement}`)
  const mixed = sampleIds(size)
  const cases: Case[] = [
    { name: 'jwtVerify only', prefix: '/jwt', ids: mixed, expect: '200' },
    { name: 'plugin', prefix: '/documents', ids: mixed, expect: 'mixed' },
    { name: 'casbin enforce()', prefix: '/casbin', ids: mixed, expect: 'mixed' },
    { name: 'casbin enforceSync()', prefix: '/casbin-sync', ids: mixed, expect: 'mixed' },
    { name: 'plugin, allowed ids only (200)', prefix: '/documents', ids: sampleIds(size, true, false), expect: '200' },
    { name: 'plugin, denied ids only (403)', prefix: '/documents', ids: sampleIds(size, false, true), expect: '403' },
    { name: 'casbin enforce(), allowed only (200)', prefix: '/casbin', ids: sampleIds(size, true, false), expect: '200' },
    { name: 'casbin enforce(), denied only (403)', prefix: '/casbin', ids: sampleIds(size, false, true), expect: '403' }
  ]
  try {
    for (const c of cases) await drive(server, c, 2)
    const runs = new Map<string, number[]>(cases.map((c) => [c.name, []]))
    const cpu = new Map<string, number[]>(cases.map((c) => [c.name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % cases.length
      for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) {
        const { rate: r, cpu: perRequest } = await drive(server, c)
        runs.get(c.name)?.push(r)
        cpu.get(c.name)?.push(perRequest)
      }
    }
    const rates = new Map(cases.map((c) => [c.name, median(runs.get(c.name) as number[])]))
    for (const c of cases) {
      console.log(`${c.name.padEnd(38)} ${(runs.get(c.name) as number[]).map(rate).join(' / ').padEnd(24)} median ${rate(rates.get(c.name) as number).padStart(6)} req/s, server CPU ${micros(median(cpu.get(c.name) as number[])).padStart(7)}/request`)
    }
    const latency = await ask<Record<string, number>>(server, 'latency')
    console.log(`single client, ${SAMPLES} calls each (mixed ids): plugin check() p50 ${micros(latency.plugin as number)}, casbin enforce() p50 ${micros(latency.enforce as number)}, enforceSync() p50 ${micros(latency.enforceSync as number)}`)
    const plugin = rates.get('plugin') as number
    console.log(`plugin / casbin enforce(): ${(plugin / (rates.get('casbin enforce()') as number)).toFixed(2)}; plugin / casbin enforceSync(): ${(plugin / (rates.get('casbin enforceSync()') as number)).toFixed(2)}\n`)
    return { size, grants: server.seeded.grants, rates, loaded, latency }
  } finally {
    const exited = new Promise((resolve) => server.child.once('exit', resolve))
    server.child.send({ kind: 'close' })
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
    if (server.child.exitCode === null) server.child.kill()
  }
}

async function main (): Promise<void> {
  const backend = usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), database: ${backend}`)
  console.log(`plugin vs node-casbin on GET /documents/:id, user ${BENCH_USER} in ${BENCH_GROUPS.join(', ')}; sizes ${SIZES.join(', ')} grants`)
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds, the order rotating each round\n`)
  const summaries: Summary[] = []
  for (const size of SIZES) summaries.push(await measure(size))
  console.log('grants   plugin req/s  casbin enforce()  enforceSync()  plugin/casbin  casbin load  rss after load (change)')
  for (const s of summaries) {
    const plugin = s.rates.get('plugin') as number
    const casbin = s.rates.get('casbin enforce()') as number
    console.log(`${String(s.grants).padEnd(8)} ${rate(plugin).padStart(12)}  ${rate(casbin).padStart(16)}  ${rate(s.rates.get('casbin enforceSync()') as number).padStart(13)}  ${(plugin / casbin).toFixed(1).padStart(13)}  ` +
      `${(s.loaded.readMs + s.loaded.buildMs).toFixed(0).padStart(8)} ms  ${mb(s.loaded.rssAfter).padStart(7)} MB (${signedMb(s.loaded.rssAfter - s.loaded.rssBefore)}), heap ${signedMb(s.loaded.heapDelta)} MB`)
  }
}

if (process.argv.includes('--serve')) await serve()
else await main()
