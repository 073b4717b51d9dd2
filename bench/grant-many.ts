// grantMany a chunk at a time, as the CLI's import calls it: BENCH_ROUNDS
// (5) calls of BENCH_GRANT_MANY (1,000) grants each, in three shapes: all
// new, the same again (each held, nothing written), and the same with a new
// expiry (each rescheduled: a row updated and an audit entry apiece). Each
// call runs in a transaction of its own, on a table holding the earlier
// rounds' grants.
//
//   npx tsx bench/grant-many.ts                                 # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/grant-many.ts
import { loadavg } from 'node:os'
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { sql } from 'kysely'
import defaultDeny from '../lib/index.js'
import { openDatabase } from '../lib/store/pglite.js'

const SIZE = Number(process.env.BENCH_GRANT_MANY ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const url = process.env.DATABASE_URL
const schema = `dd_bench_grant_many_${process.pid}`

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

async function main (): Promise<void> {
  const db = await openDatabase(url, undefined, 4)
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: 'bench-grant-many-secret-not-used-for-tokens-0' })
  await app.register(defaultDeny, { db, schema, grantRoutes: false, resources: ['document'] })
  await app.ready()
  const p = app.permissions
  const times: Record<'new' | 'held' | 'rescheduled', number[]> = { new: [], held: [], rescheduled: [] }
  for (let round = 0; round < ROUNDS; round++) {
    const chunk = Array.from({ length: SIZE }, (_, i) => ({
      grantee: { kind: 'user' as const, id: `u${i % 97}` }, resource: 'document', id: `r${round}-d${i}`, privilege: 'read' as const
    }))
    const later = new Date(Date.now() + (round + 1) * 86_400_000)
    for (const [shape, inputs] of [['new', chunk], ['held', chunk], ['rescheduled', chunk.map((c) => ({ ...c, expiresAt: later }))]] as const) {
      const t0 = process.hrtime.bigint()
      await p.grantMany(inputs, { actor: 'bench' })
      times[shape].push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  const verified = await p.verifyAudit()
  console.log(`grantMany(${SIZE}) on ${url === undefined || url === '' ? 'PGlite (in memory)' : 'PostgreSQL'}, ${ROUNDS} rounds, load ${loadavg()[0]?.toFixed(1)}; audit ${verified.ok ? 'verifies' : 'BROKEN'} (${verified.entries} entries)`)
  for (const [shape, values] of Object.entries(times)) {
    console.log(`${shape.padEnd(12)} median ${median(values).toFixed(0).padStart(6)} ms   (${values.map((v) => v.toFixed(0)).join(', ')})`)
  }
  await app.close()
  await sql`drop schema ${sql.id(schema)} cascade`.execute(db)
  await db.destroy()
}

await main()
