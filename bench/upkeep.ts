// What the embedded database's upkeep costs (lib/store/maintenance.ts): one
// `refreshEmbeddedStatistics` of the world of bench/world.ts, each table's
// `VACUUM (ANALYZE)` alone, and how long a check waits when it is asked while
// an upkeep runs, against the same check asked alone. PGlite only: on
// PostgreSQL the plugin runs no upkeep (autovacuum does it).
//
//   npx tsx bench/upkeep.ts
//
// BENCH_GRANTS (200,000), BENCH_SAMPLES (5 upkeeps). Reports figures; it has
// no target.
import { cpus } from 'node:os'
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { sql } from 'kysely'
import defaultDeny, { runMigrations } from '../lib/index.js'
import { createPGliteKysely } from '../lib/store/pglite.js'
import { refreshEmbeddedStatistics, UPKEEP_BASE, UPKEEP_FRACTION } from '../lib/store/maintenance.js'
import { BENCH_GROUPS, BENCH_USER, seedWorld, worldSize } from './world.js'

const GRANTS = Number(process.env.BENCH_GRANTS ?? 200_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5)

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const ms = (value: number) => `${value.toFixed(value < 10 ? 3 : 1).padStart(7)} ms`

if (process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '') {
  console.log('\n## bench/upkeep.ts: PGlite only (on PostgreSQL the plugin runs no upkeep); skipped')
} else {
  console.log(`\n## bench/upkeep.ts: the embedded database's upkeep (node ${process.version}, ${cpus().length} CPUs)`)
  const db = await createPGliteKysely()
  const schema = 'dd_bench_upkeep'
  try {
    await runMigrations(db, { schema })
    const started = performance.now()
    await seedWorld(db, schema, worldSize(GRANTS))
    console.log(`world: ${GRANTS} grants (seeded in ${((performance.now() - started) / 1000).toFixed(0)} s)`)

    const app = Fastify({ logger: false })
    await app.register(jwt, { secret: 'bench-secret-that-is-long-enough-for-hs256-0123456789' })
    await app.register(defaultDeny, { db, schema, migrate: false, resources: ['document'], grantRoutes: false })
    await app.ready()
    const principal = { kind: 'user' as const, id: BENCH_USER, groups: BENCH_GROUPS, superuser: false, claims: null }
    let id = 0
    const check = async () => {
      const asked = performance.now()
      await app.permissions.check(principal, { resource: 'document', id: `doc${id++ % 1000}`, privilege: 'read' })
      return performance.now() - asked
    }

    const whole: number[] = []
    const alone: number[] = []
    const beside: number[] = []
    let rows = 0
    for (let sample = 0; sample < SAMPLES; sample++) {
      for (let i = 0; i < 200; i++) alone.push(await check())
      const began = performance.now()
      const upkeep = refreshEmbeddedStatistics(db, schema).then((counted) => { rows = counted; whole.push(performance.now() - began) })
      // Asked while the upkeep runs: each waits for the table under way.
      let running = true
      void upkeep.then(() => { running = false })
      while (running) beside.push(await check())
      await upkeep
    }
    const tables = (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = ${schema} order by 1`.execute(db)).rows
    const perTable: Array<[string, number]> = []
    for (const { name } of tables) {
      const times: number[] = []
      for (let sample = 0; sample < SAMPLES; sample++) {
        const began = performance.now()
        await sql`vacuum (analyze) ${sql.id(schema, name)}`.execute(db)
        times.push(performance.now() - began)
      }
      perTable.push([name, median(times)])
    }
    await app.close()

    console.log(`one upkeep (VACUUM (ANALYZE) of ${tables.length} tables, ${rows} rows)  median ${ms(median(whole))}  (${SAMPLES} runs)`)
    for (const [name, time] of perTable.sort((a, b) => b[1] - a[1]).slice(0, 4)) console.log(`  ${name.padEnd(40)} median ${ms(time)}`)
    console.log(`a check, alone                                 p50 ${ms(median(alone))}, longest ${ms(Math.max(...alone))}  (${alone.length})`)
    console.log(`a check asked while an upkeep runs             p50 ${ms(median(beside))}, longest ${ms(Math.max(...beside))}  (${beside.length})`)
    console.log(`next upkeep after ${Math.round(UPKEEP_BASE + UPKEEP_FRACTION * rows)} changed rows (${UPKEEP_BASE} + ${UPKEEP_FRACTION} × ${rows})`)
  } finally {
    await db.destroy()
  }
}
