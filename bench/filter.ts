// List filtering inside the host's query: the first keyset page of a host
// table filtered by `permissions.visible` (the wide grant read first, then
// a condition PostgreSQL drives from the grants), by `permissions.filter`
// (a test of each row), and `listIds`' first page, where the user may read
// 1% of the rows, at two table sizes, against the same page unfiltered and
// against a deep page; and count(*) of the filtered set. Single client, the
// cases interleaved round by round. Prints each target with its raw figures
// and sets the exit code to 1 when one is missed (BENCH_REPORT_ONLY=1 or
// --report-only: report only).
//
//   npx tsx bench/filter.ts                                    # embedded PGlite
//   DATABASE_URL=postgres://… npx tsx bench/filter.ts
//
// BENCH_FILTER_ROWS (default "10000,1000000": the small size, then the large
// one), BENCH_ROUNDS (5) and BENCH_SAMPLES (queries per case per round, 40)
// tune the run; BENCH_EXPLAIN=1 prints the plan of the large filtered first page.
import { cpus, loadavg } from 'node:os'
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { sql, type Kysely } from 'kysely'
import defaultDeny, { runMigrations } from '../lib/index.js'
import { openDatabase } from '../lib/store/pglite.js'

const SIZES = (process.env.BENCH_FILTER_ROWS ?? '10000,1000000').split(',').map(Number)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40)
const PAGE = 50
const USER = 'u42'
const GROUPS = ['g7', 'g8']
const REPORT_ONLY = process.argv.includes('--report-only') || (process.env.BENCH_REPORT_ONLY ?? '') !== ''
const url = process.env.DATABASE_URL
const usingPostgres = url !== undefined && url !== ''

// Row i is 'doc' + i zero-padded, so the id order is the row order. The user
// reads every 100th row: its own grant on every 200th, its group g7's on every
// 200th offset 100. Other users hold one grant per row and own every row, so
// the grant and owner tables grow with the host table.
const idOf = (i: number) => `doc${String(i).padStart(7, '0')}`

async function seed (db: Kysely<any>, schema: string, rows: number): Promise<void> {
  await runMigrations(db, { schema })
  const doc = sql.id(schema, 'bench_document')
  const g = sql.id(schema, 'default_deny_grant')
  const r = sql.id(schema, 'default_deny_resource')
  const id = sql`'doc' || lpad(i::text, 7, '0')`
  await sql`create table ${doc} (id text collate "C" primary key, title text not null)`.execute(db)
  await sql`insert into ${doc} select ${id}, 'title ' || i from generate_series(0, ${rows - 1}) i`.execute(db)
  await sql`insert into ${r} (resource_type, resource_id, owner_id)
    select 'document', ${id}, 'u' || (100 + i % 5000) from generate_series(0, ${rows - 1}) i`.execute(db)
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select 'user', 'u' || (100 + (i * 7) % 5000), 'document', ${id}, 'read' from generate_series(0, ${rows - 1}) i`.execute(db)
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select 'user', ${USER}, 'document', ${id}, 'read' from generate_series(0, ${rows - 1}, 200) i`.execute(db)
  await sql`insert into ${g} (principal_kind, principal_id, resource_type, resource_id, privilege)
    select 'group', ${GROUPS[0]}, 'document', ${id}, 'read' from generate_series(100, ${rows - 1}, 200) i`.execute(db)
  // Vacuum too, as autovacuum would have by then: index-only scans need pages marked all-visible.
  for (const table of [doc, g, r]) await sql`vacuum analyze ${table}`.execute(db)
}

interface Case { name: string, run: () => Promise<unknown>, times: number[] }

const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

async function main (): Promise<void> {
  const db = await openDatabase(url, undefined, 4)
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: 'bench-filter-secret-not-used-for-tokens-0123456789' })
  const schemas = SIZES.map((rows) => `dd_bench_filter_${rows}_${process.pid}`)
  const started = Date.now()
  for (const [i, rows] of SIZES.entries()) await seed(db, schemas[i] as string, rows)
  const seconds = (Date.now() - started) / 1000
  // One plugin instance per schema, each in its own scope.
  const permissions: Array<typeof app.permissions> = []
  for (const schema of schemas) {
    await app.register(async (scope) => {
      await scope.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, resources: ['document'] })
      permissions.push(scope.permissions)
    })
  }
  await app.ready()
  const principal = { kind: 'user' as const, id: USER, groups: GROUPS, superuser: false, claims: {} }
  const target = { resource: 'document', privilege: 'read' as const }

  // How a page is filtered: not at all, by filter's condition, by visible's
  // (read before each page, as a request would), or by one visible condition
  // read once (the page's own query alone).
  type How = 'none' | 'filter' | 'visible' | 'visible once'
  const page = (size: number, after: string, how: How) => {
    const table = `${schemas[size] as string}.bench_document`
    const p = permissions[size] as typeof app.permissions
    const query = db.selectFrom(table).select(['id', 'title']).where('id', '>', after).orderBy('id').limit(PAGE)
    let once: Awaited<ReturnType<typeof p.visible>> | null = null
    return async () => {
      const condition = how === 'filter'
        ? p.filter(principal, target, `${table}.id`)
        : how === 'visible' ? await p.visible(principal, target, `${table}.id`, { after }) : how === 'visible once' ? (once ??= await p.visible(principal, target, `${table}.id`)) : null
      const rows = await (condition === null ? query : query.where(condition)).execute()
      if (rows.length !== PAGE) throw new Error(`expected a full page, got ${rows.length} rows`)
      return rows
    }
  }
  const listPage = (size: number) => async () => {
    const listed = await (permissions[size] as typeof app.permissions).listIds(principal, { ...target, limit: PAGE })
    if (listed.ids.length !== PAGE) throw new Error(`expected a full page of ids, got ${listed.ids.length}`)
    return listed
  }
  const small = 0
  const large = SIZES.length - 1
  const largeRows = SIZES[large] as number
  // The deepest full page of the large filtered list: readable rows are every
  // 100th, so page p starts after readable row (p - 1) * 50 - 1.
  const pages = Math.floor(largeRows / 100 / PAGE)
  const deepAfter = idOf(100 * ((pages - 1) * PAGE - 1))
  const smallRows = SIZES[small] as number
  const cases: Case[] = [
    { name: `unfiltered, first page, ${smallRows} rows`, run: page(small, '', 'none'), times: [] },
    { name: `visible, first page, ${smallRows} rows`, run: page(small, '', 'visible'), times: [] },
    { name: `listIds, first page, ${smallRows} rows`, run: listPage(small), times: [] },
    { name: `filter, first page, ${smallRows} rows`, run: page(small, '', 'filter'), times: [] },
    { name: `unfiltered, first page, ${largeRows} rows`, run: page(large, '', 'none'), times: [] },
    { name: `visible, first page, ${largeRows} rows`, run: page(large, '', 'visible'), times: [] },
    { name: `listIds, first page, ${largeRows} rows`, run: listPage(large), times: [] },
    { name: `filter, first page, ${largeRows} rows`, run: page(large, '', 'filter'), times: [] },
    { name: `(the page alone, visible read once), ${largeRows}`, run: page(large, '', 'visible once'), times: [] },
    { name: `visible, page ${pages} (the last), ${largeRows} rows`, run: page(large, deepAfter, 'visible'), times: [] }
  ]
  const count = async (size: number, how: 'filter' | 'visible') => {
    const table = `${schemas[size] as string}.bench_document`
    const p = permissions[size] as typeof app.permissions
    const condition = how === 'filter' ? p.filter(principal, target, `${table}.id`) : await p.visible(principal, target, `${table}.id`)
    const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where(condition).executeTakeFirstOrThrow()
    return Number(row.n)
  }
  const countCases: Case[] = [
    { name: `count(*), visible, ${largeRows} rows`, run: async () => await count(large, 'visible'), times: [] },
    { name: `count(*), filter, ${largeRows} rows`, run: async () => await count(large, 'filter'), times: [] }
  ]
  cases.push(...countCases)

  for (const c of cases) for (let i = 0; i < 20; i++) await c.run()
  if (process.env.BENCH_EXPLAIN !== undefined) {
    const table = `${schemas[large] as string}.bench_document`
    const query = db.selectFrom(table).select(['id', 'title']).where('id', '>', '').orderBy('id').limit(PAGE)
      .where(await (permissions[large] as typeof app.permissions).visible(principal, target, `${table}.id`))
    const plan = await query.explain('text', sql`analyze, buffers`)
    console.log(plan.map((row) => row['QUERY PLAN']).join('\n'))
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length] as Case)
    for (const c of order) {
      for (let i = 0; i < (countCases.includes(c) ? Math.max(3, SAMPLES / 10) : SAMPLES); i++) {
        const t0 = process.hrtime.bigint()
        await c.run()
        c.times.push(Number(process.hrtime.bigint() - t0) / 1e6)
      }
    }
  }

  console.log(`node ${process.version}, ${cpus().length} CPUs, database: ${usingPostgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)'}`)
  console.log(`host tables of ${SIZES.join(' and ')} rows (with as many grants and owners again), the user reads 1% (seeded in ${seconds.toFixed(0)} s)`)
  console.log(`single client, ${ROUNDS} interleaved rounds of ${SAMPLES} queries per case; pages of ${PAGE} rows, keyset on id\n`)
  for (const c of cases) console.log(`${c.name.padEnd(48)} p50 ${p50(c.times).toFixed(3).padStart(8)} ms  (${c.times.length} queries)`)
  const counted = [await count(large, 'visible'), await count(large, 'filter')]
  console.log(`\ncount(*) of the filtered set: ${counted.join(' (visible) and ')} (filter) of ${largeRows} rows; load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}`)
  const [unfilteredSmall, visibleSmall, listedSmall, filterSmall, unfiltered, visibleLarge, listedLarge, filterLarge, , deep] = cases.map((c) => p50(c.times)) as number[]
  let missed = 0
  const verdict = (ratio: number, limit: number) => {
    if (ratio > limit) missed++
    return `${ratio.toFixed(2)}  (≤ ${limit}: ${ratio <= limit ? 'meets' : 'MISSES'})`
  }
  const small$ = `${smallRows}`.padEnd(7)
  const large$ = `${largeRows}`.padEnd(7)
  console.log('\ntargets:')
  console.log(`  visible first page / unfiltered, ${large$} rows:  ${verdict(visibleLarge / unfiltered, 3)}`)
  console.log(`  visible first page / unfiltered, ${small$} rows:  ${verdict(visibleSmall / unfilteredSmall, 2)}`)
  console.log(`  listIds first page / unfiltered, ${large$} rows:  ${verdict(listedLarge / unfiltered, 3)}`)
  console.log(`  listIds first page / unfiltered, ${small$} rows:  ${verdict(listedSmall / unfilteredSmall, 2)}`)
  console.log(`  visible first page, ${largeRows} / ${smallRows} rows:    ${verdict(visibleLarge / visibleSmall, 2)}`)
  console.log(`  visible page ${pages} / page 1:                  ${verdict(deep / visibleLarge, 1.5)}  (the issue asks for page 1,000; at 1% of ${largeRows} rows there are ${pages} pages)`)
  console.log(`  (filter, the per-row condition: first page / unfiltered ${(filterLarge / unfiltered).toFixed(2)} at ${largeRows} rows, ${(filterSmall / unfilteredSmall).toFixed(2)} at ${smallRows})`)
  if (missed > 0 && !REPORT_ONLY) {
    console.log(`\n${missed} target(s) missed (BENCH_REPORT_ONLY=1 or --report-only reports without failing)`)
    process.exitCode = 1
  }

  await app.close()
  for (const schema of schemas) await sql`drop schema ${sql.id(schema)} cascade`.execute(db)
  await db.destroy()
}

await main()
