// A test schema on PostgreSQL with the plugin's migrations already applied,
// for the tests that build an app and so would migrate a new schema each
// (most of them). The migrator makes about seventy round trips per schema
// (introspection, its lock table, an advisory lock, each statement, a row per
// migration): 0.7-1.1 s of wall time per schema on the shared server under
// load, against 0.2 s for the same statements sent at once.
//
// The statements are what the plugin's migrator itself runs: recorded from a
// real run of runMigrations in a schema of a placeholder name, once per set of
// migrations (a hash of migrations/, lib/store/migrate.ts and Kysely's version
// names the cache file in node_modules/.cache), and replayed in one
// transaction with the test's schema in place of the placeholder: the
// migrations' statements, the migration table and its rows, the lock table
// and its row. The plugin then registers as on any migrated schema
// (runMigrations finds nothing to do). A replayed schema was compared with a
// migrated one, catalog against catalog (columns, indexes, constraints,
// functions, triggers, migration rows): the same. Tests of migrations, and
// every test that passes `migrate: false` or a database or schema of its own,
// start from an empty schema as before: only `build` and `exampleApp` in
// helper.ts ask for this.
//
// On PGlite a replay saves little: the statements themselves cost most there
// (about 0.3 s a schema, and 0.8 s for a process's first, cold). So the
// embedded database a test file shares (helper.ts) starts from a dump that
// already holds READY_SCHEMAS schemas the plugin's own migrator migrated,
// named by their order (each process has its own database, so the names
// collide with nothing); a test takes the next one, and once they are all
// taken, the plugin migrates a new schema as before. The dump is made once
// per set of migrations and PGlite version, and kept beside the initdb one.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { changeChannel } from '../lib/store/channel.js'
import { runMigrations } from '../lib/store/migrate.js'
import { PGlitePool } from '../lib/store/pglite.js'
import { cachedDump, PGLITE_VERSION } from './pglite-helper.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// The schema the statements are recorded in, named by the recording process:
// files that start together on one server may each record theirs.
const PLACEHOLDER = `dd_migration_template_${process.pid}`

interface Recorded { placeholder: string, statements: string[] }

// Where a migration row's timestamp goes, filled in at each replay.
const MIGRATED_AT = '__migrated_at__'

function migrationSetHash (): string {
  const hash = createHash('sha256')
  const kysely = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'kysely', 'package.json'), 'utf8')) as { version: string }).version
  // The version of the recording's format, then what it depends on.
  hash.update(`format 2\nkysely ${kysely}\n`)
  for (const name of readdirSync(join(ROOT, 'migrations')).sort()) {
    hash.update(`${name}\n`).update(readFileSync(join(ROOT, 'migrations', name)))
  }
  hash.update(readFileSync(join(ROOT, 'lib', 'store', 'migrate.ts')))
  return hash.digest('hex').slice(0, 16)
}

// What the migrator asks or holds for itself, and needs not be replayed: the
// introspection of the schema, the lock row's lookup, the advisory lock, the
// list of applied migrations, and its transaction (the replay has its own).
const MIGRATOR_ONLY = [
  /^\s*select\s+nspname\s+as\s+name\s+from\s+pg_catalog\.pg_namespace/i,
  /^\s*select\s+c\.relname\s+as\s+name\s+from\s+pg_catalog\.pg_class/i,
  /^\s*select\s+"id"\s+from\s+"[^"]+"\."default_deny_migration_lock"/i,
  /pg_advisory_(un)?lock\(/i,
  /^\s*select\s+"name",\s*"timestamp"\s+from\s+"[^"]+"\."default_deny_migration"\s*$/i,
  /^\s*(begin|commit|rollback)\s*$/i
]

function literal (value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (value === null || value === undefined) return 'null'
  return `'${String(value).replace(/'/g, "''")}'`
}

/** Runs the migrations in the placeholder schema and returns what they sent, parameters inlined. */
async function record (): Promise<string[]> {
  const statements: string[] = []
  const log = (event: { level: string, query: { sql: string, parameters: readonly unknown[] } }) => {
    if (event.level !== 'query') return
    const { sql: text, parameters } = event.query
    if (MIGRATOR_ONLY.some((pattern) => pattern.test(text))) return
    // Only the migrator's rows have parameters; a function's body may say $1 itself.
    // A migration row's time is the replay's, as it would be the migration's.
    const migrationRow = /^\s*insert into "[^"]+"\."default_deny_migration" \("name", "timestamp"\)/.test(text)
    statements.push(parameters.length === 0
      ? text
      : text.replace(/\$(\d+)/g, (_, n: string) => migrationRow && n === '2' ? MIGRATED_AT : literal(parameters[Number(n) - 1])))
  }
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 }) }), log })
  try {
    await runMigrations(db, { schema: PLACEHOLDER })
    const made = [...statements]
    await sql`drop schema if exists ${sql.id(PLACEHOLDER)} cascade`.execute(db)
    return made
  } finally {
    await db.destroy()
  }
}

let script: Promise<Recorded> | undefined

/** The recorded statements: from the cache, or recorded and cached. */
function recorded (): Promise<Recorded> {
  script ??= (async () => {
    const file = join(ROOT, 'node_modules', '.cache', 'fastify-default-deny', `migrations-${migrationSetHash()}.json`)
    if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Recorded
    const made: Recorded = { placeholder: PLACEHOLDER, statements: await record() }
    await mkdir(join(file, '..'), { recursive: true })
    // Written under a name of its own and renamed into place, as the initdb dump is.
    const partial = `${file}.${process.pid}`
    await writeFile(partial, JSON.stringify(made))
    await rename(partial, file)
    return made
  })()
  return script
}

/**
 * Creates `schema` on the server behind `db` as the plugin's migrations leave
 * it (test schema names only: letters, digits, `_`).
 */
export async function migratedSchema (db: Kysely<any>, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a test schema name: ${schema}`)
  const { placeholder, statements } = await recorded()
  // One round trip: without parameters pg sends it as a simple query, which
  // may hold several statements; begin/commit make them one transaction.
  const script = ['begin', ...statements, 'commit'].join(';\n')
    .replaceAll(changeChannel(placeholder), changeChannel(schema))
    .replaceAll(placeholder, schema)
    .replaceAll(MIGRATED_AT, literal(new Date().toISOString()))
  await sql.raw(script).execute(db)
}

/** How many migrated schemas the embedded dump holds: most test files build fewer apps. */
export const READY_SCHEMAS = 12
const readyName = (n: number) => `dd_ready_${n}`

let readyDump: Promise<Blob> | undefined

/** The dump of an embedded database holding READY_SCHEMAS migrated schemas: read from the cache, or made and cached. */
export function migratedDump (): Promise<Blob> {
  const file = join(ROOT, 'node_modules', '.cache', 'fastify-default-deny', `pglite-${PGLITE_VERSION}-migrated-${migrationSetHash()}-${READY_SCHEMAS}.tar`)
  readyDump ??= cachedDump(file, async () => {
    const pglite = await PGlite.create()
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) })
    try {
      for (let n = 0; n < READY_SCHEMAS; n++) await runMigrations(db, { schema: readyName(n) })
      return await pglite.dumpDataDir('none')
    } finally {
      await db.destroy()
      if (!pglite.closed) await pglite.close()
    }
  })
  return readyDump
}

let taken = 0

/** The next migrated schema of this process's embedded database (one started from `migratedDump`), or undefined once all are taken. */
export function takeMigratedSchema (): string | undefined {
  return taken < READY_SCHEMAS ? readyName(taken++) : undefined
}
