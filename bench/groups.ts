// Nested groups: the latency of check() for a user in 50 stored groups nested
// 5 deep, against a user in one stored group and a user in one group named by
// its token, on the same world and the same ids, single client, the three
// users taking turns on every id so that drift hits them alike.
//
//   npx tsx bench/groups.ts                                    # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/groups.ts
//
// BENCH_GROUPS_GRANTS (the world's size, default 100,000) and BENCH_SAMPLES
// (calls per user, default 4000) tune the run.
import { cpus } from 'node:os'
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { sql } from 'kysely'
import defaultDeny, { runMigrations } from '../lib/index.js'
import { userPrincipal } from '../lib/decision/principal.js'
import { openDatabase } from '../lib/store/pglite.js'
import { seedWorld, settleWorld, worldSize } from './world.js'

const GRANTS = Number(process.env.BENCH_GROUPS_GRANTS ?? 100_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 4000)
const LEVELS = 5
const PER_LEVEL = 10
const url = process.env.DATABASE_URL
const usingPostgres = url !== undefined && url !== ''

// What each benchmark user may read: every 25th document, through its group.
const readable = (doc: number) => doc % 25 === 0

const db = await openDatabase(url, undefined, 4)
const schema = `dd_bench_groups_${process.pid}`
console.log(`node ${process.version}, ${cpus().length} CPUs, database: ${usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'}`)
try {
  await runMigrations(db, { schema })
  const size = worldSize(GRANTS)
  await seedWorld(db, schema, size)
  const m = sql.id(schema, 'default_deny_membership')
  const g = sql.id(schema, 'default_deny_grant')
  // 50 groups in 5 levels of 10: the nested user is a member of every level-1
  // group, and each group of a level is a member of two of the next (a
  // lattice, so the walk meets the same group along several paths). Only
  // two level-5 groups hold anything.
  await sql`insert into ${m} (group_id, member_kind, member_id)
    select 'nest1_' || i, 'user', 'nested' from generate_series(0, ${PER_LEVEL - 1}) i
    union all select 'nest' || (l + 1) || '_' || ((i + k) % ${PER_LEVEL}), 'group', 'nest' || l || '_' || i
      from generate_series(1, ${LEVELS - 1}) l, generate_series(0, ${PER_LEVEL - 1}) i, generate_series(0, 1) k
    union all select 'one', 'user', 'single'`.execute(db)
  // Other users' memberships, so the membership table is not empty around them.
  await sql`insert into ${m} (group_id, member_kind, member_id)
    select 'g' || (10 + i % ${size.groups - 10}), 'user', 'u' || (100 + i % ${size.users - 100})
    from generate_series(0, ${Math.floor(size.users / 2)}) i on conflict do nothing`.execute(db)
  for (const holder of [`nest${LEVELS}_3`, `nest${LEVELS}_7`, 'one']) {
    await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
      select 'group', ${holder}, 'document', 'doc' || i, 'read' from generate_series(0, ${size.documents - 1}, 25) i`.execute(db)
  }
  await settleWorld(db, schema)

  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: 'bench-secret-that-is-long-enough-for-hs256-0123456789' })
  await app.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, resources: ['document'] })
  await app.ready()
  const users = [
    { name: 'one group, from the token', principal: userPrincipal('token', ['one']) },
    { name: 'one group, stored', principal: userPrincipal('single', []) },
    { name: '50 groups nested 5 deep, stored', principal: userPrincipal('nested', []) }
  ]
  const reached = (await app.permissions.groupsOf(users[2]?.principal as never)).length
  console.log(`world: about ${GRANTS} grants; the nested user reaches ${reached} groups (${LEVELS} levels)\n`)
  const docs = Array.from({ length: SAMPLES }, (_, i) => (i % 2 === 0 ? i * 25 : i * 25 + 1) % size.documents)
  const times: number[][] = users.map(() => [])
  const ask = async (user: number, doc: number) => {
    const started = process.hrtime.bigint()
    const allowed = await app.permissions.check(users[user]?.principal as never, { resource: 'document', id: `doc${doc}`, privilege: 'read' })
    const spent = Number(process.hrtime.bigint() - started) / 1000
    if (allowed !== readable(doc)) throw new Error(`${users[user]?.name}: doc${doc} answered ${String(allowed)}`)
    return spent
  }
  for (const doc of docs.slice(0, 500)) for (let u = 0; u < users.length; u++) await ask(u, doc)
  for (const [i, doc] of docs.entries()) {
    for (let k = 0; k < users.length; k++) {
      const u = (i + k) % users.length
      times[u]?.push(await ask(u, doc))
    }
  }
  const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)] as number
  for (const [u, user] of users.entries()) {
    console.log(`${user.name.padEnd(34)} check() p50 ${p50(times[u] as number[]).toFixed(0).padStart(5)} µs, p99 ${p99(times[u] as number[]).toFixed(0).padStart(6)} µs (${SAMPLES} calls, half allowed)`)
  }
  const nested = p50(times[2] as number[])
  const stored = nested / p50(times[1] as number[])
  const token = nested / p50(times[0] as number[])
  console.log('\ntargets:')
  console.log(`  nested / one stored group:    ${stored.toFixed(3)}  (≤ 1.30: ${stored <= 1.3 ? 'meets' : 'MISSES'})`)
  console.log(`  nested / one token group:     ${token.toFixed(3)}  (≤ 1.30: ${token <= 1.3 ? 'meets' : 'MISSES'})`)
  await app.close()
} finally {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db).catch(() => {})
  await db.destroy()
}
