// Membership changes: what one change costs, and how long everything else
// waits behind it. Two worlds:
// - dense: groups d0…d11, each a member of every other, and 300 users in d0;
//   the change takes d0 out of d2 and puts it back, through the grant API;
// - large: a group of 100,000 users; a user joins and leaves it, and the
//   whole group is put into another group and taken out again (refused at
//   the default limit; timed again with the limit raised).
// Beside each change, one client keeps calling GET /health (no database)
// and another a route check (one query): the longest each waited while a
// change ran is printed. On the embedded database a statement runs inside
// this process, so /health waits as long as the longest statement, and a
// check as long as the whole change (PGlite is one connection).
//
//   npx tsx bench/members.ts                                    # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/members.ts
//
// BENCH_MEMBERS_ROUNDS (changes per case, default 20) and
// BENCH_MEMBERS_LARGE (the large group's size, default 100,000) tune it.
// BENCH_MEMBERS_UNLIMITED=1 runs it on a version without maxMembershipChange
// (the figures before it): every case at the default, none refused.
// BENCH_MEMBERS_CHECKS=0 leaves out the check beside the changes.
import { cpus } from 'node:os'
import Fastify, { type FastifyInstance } from 'fastify'
import jwt from '@fastify/jwt'
import { sql, type Kysely } from 'kysely'
import defaultDeny, { runMigrations } from '../lib/index.js'
import { openDatabase } from '../lib/store/pglite.js'

const ROUNDS = Number(process.env.BENCH_MEMBERS_ROUNDS ?? 20)
const LARGE = Number(process.env.BENCH_MEMBERS_LARGE ?? 100_000)
const UNLIMITED = process.env.BENCH_MEMBERS_UNLIMITED === '1'
const CHECKS = process.env.BENCH_MEMBERS_CHECKS !== '0'
const url = process.env.DATABASE_URL
const usingPostgres = url !== undefined && url !== ''
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789'

const db = await openDatabase(url, undefined, 4)
const schema = `dd_bench_members_${process.pid}`
console.log(`node ${process.version}, ${cpus().length} CPUs, database: ${usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'}`)

async function app (options: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false })
  await instance.register(jwt, { secret: SECRET })
  await instance.register(defaultDeny, { db, schema, migrate: false, superuserClaim: 'su', ...options })
  instance.get('/health', { config: { permission: 'public' } }, async () => ({ ok: true }))
  instance.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  await instance.ready()
  return instance
}

interface Sample { status: number, ms: number, health: number, check: number, refused: number }

/** One change through `inject`, with /health and a check called in a loop beside it until it answers. */
async function timed (server: FastifyInstance, method: 'PUT' | 'DELETE', path: string): Promise<Sample> {
  const root = { authorization: `Bearer ${server.jwt.sign({ sub: 'root', su: true })}` }
  const reader = { authorization: `Bearer ${server.jwt.sign({ sub: 'reader' })}` }
  let done = false
  const worst = { health: 0, check: 0, refused: 0 }
  const beside = async (which: 'health' | 'check') => {
    while (!done) {
      const started = performance.now()
      const reply = await server.inject(which === 'health' ? { url: '/health' } : { url: '/d/doc1', headers: reader })
      // A check that waited past checkTimeout fails closed (503): counted.
      if (reply.statusCode !== 200) worst.refused++
      worst[which] = Math.max(worst[which], performance.now() - started)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  const started = performance.now()
  const loops = CHECKS ? [beside('health'), beside('check')] : [beside('health')]
  const reply = await server.inject({ method, url: path, headers: root })
  const ms = performance.now() - started
  done = true
  await Promise.all(loops)
  if (reply.statusCode >= 500) throw new Error(`${method} ${path}: ${reply.statusCode} ${reply.body}`)
  return { status: reply.statusCode, ms, ...worst }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const max = (values: number[]) => Math.max(...values)

/** `rounds` pairs of changes (the first pair a warm-up, not counted), printed as one line per direction. */
async function pairOf (server: FastifyInstance, label: string, first: ['PUT' | 'DELETE', string], second: ['PUT' | 'DELETE', string], rounds = ROUNDS): Promise<void> {
  const samples: Sample[][] = [[], []]
  for (let round = 0; round <= rounds; round++) {
    for (const [i, [method, path]] of [first, second].entries()) {
      const sample = await timed(server, method, path)
      if (round > 0) samples[i]?.push(sample)
    }
  }
  for (const [i, [method]] of [first, second].entries()) {
    const s = samples[i] as Sample[]
    const statuses = [...new Set(s.map((x) => x.status))].join('/')
    console.log(`${`${label}, ${method === 'PUT' ? 'add' : 'remove'}`.padEnd(44)} ${statuses}  change p50 ${median(s.map((x) => x.ms)).toFixed(1).padStart(7)} ms, max ${max(s.map((x) => x.ms)).toFixed(1).padStart(7)} ms;` +
      ` longest wait: /health ${max(s.map((x) => x.health)).toFixed(1).padStart(6)} ms, a check ${max(s.map((x) => x.check)).toFixed(1).padStart(7)} ms (${s.length} changes` +
      `${s.some((x) => x.refused > 0) ? `; ${s.reduce((n, x) => n + x.refused, 0)} checks refused beside them` : ''})`)
  }
}

async function closureRows (kysely: Kysely<any>): Promise<number> {
  return (await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'default_deny_membership_closure')}`.execute(kysely)).rows[0]?.n ?? 0
}

try {
  await runMigrations(db, { schema })
  const m = sql.id(schema, 'default_deny_membership')
  await sql`insert into ${sql.id(schema, 'default_deny_grant')} (principal_kind, principal_id, resource_type, resource_id, privilege)
    values ('user', 'reader', 'document', 'doc1', 'read')`.execute(db)

  let started = performance.now()
  await sql`insert into ${m} (group_id, member_kind, member_id)
    select 'd' || i, 'group', 'd' || j from generate_series(0, 11) i, generate_series(0, 11) j where i <> j`.execute(db)
  await sql`insert into ${m} (group_id, member_kind, member_id) select 'd0', 'user', 'u' || i from generate_series(1, 300) i`.execute(db)
  console.log(`dense world: 12 groups each in every other, 300 users in d0 (${await closureRows(db)} closure rows, seeded in ${(performance.now() - started).toFixed(0)} ms)`)
  const server = await app()
  await pairOf(server, 'dense: d0 in d2', ['DELETE', '/permissions/groups/d2/members/group/d0'], ['PUT', '/permissions/groups/d2/members/group/d0'])

  started = performance.now()
  await sql`insert into ${m} (group_id, member_kind, member_id) select 'all', 'user', 'a' || i from generate_series(1, ${LARGE}) i`.execute(db)
  await sql`analyze ${m}`.execute(db)
  console.log(`\nlarge world: a group of ${LARGE} users (${await closureRows(db)} closure rows, seeded in ${(performance.now() - started).toFixed(0)} ms)`)
  await pairOf(server, `large: a user in the ${LARGE}-member group`, ['PUT', '/permissions/groups/all/members/user/newcomer'], ['DELETE', '/permissions/groups/all/members/user/newcomer'])
  const big = ['PUT', '/permissions/groups/top/members/group/all'] as ['PUT', string]
  const unbig = ['DELETE', '/permissions/groups/top/members/group/all'] as ['DELETE', string]
  if (!UNLIMITED) await pairOf(server, `large: the ${LARGE}-member group in top`, big, unbig, 5)
  await server.close()
  const raised = await app(UNLIMITED ? {} : { maxMembershipChange: LARGE * 2 })
  await pairOf(raised, `large: the same${UNLIMITED ? '' : ', limit raised'}`, big, unbig, 3)
  await raised.close()
} finally {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db).catch(() => {})
  await db.destroy()
}
