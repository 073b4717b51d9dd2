// Every test file gets its own database: a fresh in-memory PGlite by default,
// or its own schema on the server named by DATABASE_URL. Files run in parallel.
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import tap from 'tap'
import jwt from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { sql, type Kysely } from 'kysely'
import defaultDeny from '../lib/index.js'
import { buildExample, seedExample, type ExampleApp } from '../examples/app.js'
import { createPGliteKysely } from '../lib/store/pglite.js'
import { postgresKysely } from '../lib/store/postgres.js'
import { startNewDatabasesFromTemplate } from './pglite-helper.js'
import { migratedDump, migratedSchema, takeMigratedSchema } from './migrated-helper.js'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyDefaultDenyOptions } from '../fastify-plugin.js'

// Every test file imports this one: its new embedded databases skip initdb.
startNewDatabasesFromTemplate()

export const SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'
export const usingPostgres = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ''

// The test database is thrown away after each file: no commit of a test needs
// to wait for its WAL to reach the disk. Every connection of the test process
// (the tests' pools, the plugin's own, the CLI's, and child processes, which
// inherit the environment) asks for that through libpq's PGOPTIONS, which pg
// reads too; the plugin's code is unchanged. A setting given by the caller wins.
// test/replica-helper.ts takes it back: a standby's lag is what its tests measure.
export const ASYNC_COMMIT = '-c synchronous_commit=off'
if (usingPostgres && process.env.PGOPTIONS === undefined) process.env.PGOPTIONS = ASYNC_COMMIT

interface Teardown { teardown: (fn: () => unknown) => void }

export interface TestDatabase {
  db: Kysely<any>
  schema: string
}

/**
 * A database (and schema) private to the calling test, dropped at teardown.
 * Empty, or with `migrated: true` as the plugin's migrations leave it
 * (test/migrated-helper.ts says how, on each backend).
 */
export async function testDatabase (t: Teardown, { migrated = false } = {}): Promise<TestDatabase> {
  let schema = `dd_test_${process.pid}_${randomBytes(4).toString('hex')}`
  if (usingPostgres) {
    const db = postgresKysely(process.env.DATABASE_URL as string, { max: 4 })
    t.teardown(async () => {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
      await db.destroy()
    })
    if (migrated) await migratedSchema(db, schema)
    return { db, schema }
  }
  const db = await sharedPGlite()
  if (migrated) schema = takeMigratedSchema() ?? schema
  t.teardown(async () => { await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db) })
  return { db, schema }
}

/**
 * A database of its own on PostgreSQL (a schema in it, as `testDatabase`
 * gives), dropped at teardown, for a test of code that reads the catalogue of
 * the whole database, as Kysely's Migrator does: in the shared database it
 * would see other files' schemas come and go under it. On the embedded
 * database `testDatabase` already gives that (one PGlite per file, whose
 * tests run one at a time).
 */
export async function privateDatabase (t: Teardown): Promise<TestDatabase> {
  if (!usingPostgres) return await testDatabase(t)
  const name = `dd_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgresKysely(process.env.DATABASE_URL as string, { max: 1 })
  await sql`create database ${sql.id(name)}`.execute(admin)
  const url = new URL(process.env.DATABASE_URL as string)
  url.pathname = `/${name}`
  const db = postgresKysely(url.toString(), { max: 4 })
  t.teardown(async () => {
    await db.destroy()
    await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin)
    await admin.destroy()
  })
  const schema = name
  await sql`create schema ${sql.id(schema)}`.execute(db)
  return { db, schema }
}

// Starting PGlite costs about a second, so one instance serves a whole test
// file; each test still gets its own schema.
let pglite: Promise<Kysely<any>> | undefined
function sharedPGlite (): Promise<Kysely<any>> {
  if (pglite === undefined) {
    pglite = (async () => await createPGliteKysely(undefined, { loadDataDir: await migratedDump() }))()
    tap.teardown(async () => { await (await pglite as Kysely<any>).destroy() })
  }
  return pglite
}

// Fastify compiles a serializer for every response schema of every app, and
// the plugin's routes have the same schemas in every app a file builds (a few
// hundred milliseconds of CPU per file on the embedded database). The apps of
// one process share one compiled serializer per distinct schema (with the
// same shared schemas and options): what Fastify would compile again from the
// same input. (@fastify/fast-json-stringify-compiler is Fastify's own.)
const defaultSerializers = SerializerSelector()
const compiledSerializers = new Map<string, unknown>()
type SerializerFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']>
const buildSerializer: SerializerFactory = (externalSchemas, serializerOpts) => {
  const compile = defaultSerializers(externalSchemas, serializerOpts)
  const prefix = JSON.stringify([externalSchemas, serializerOpts])
  return (route) => {
    const key = `${prefix}${JSON.stringify([route.schema, route.httpStatus, (route as { contentType?: string }).contentType])}`
    let serializer = compiledSerializers.get(key)
    if (serializer === undefined) compiledSerializers.set(key, serializer = compile(route))
    return serializer as ReturnType<typeof compile>
  }
}

/** What `build` gives Fastify unless the test gives its own. */
export const FASTIFY_TEST_OPTIONS: FastifyServerOptions = { logger: false, schemaController: { compilersFactory: { buildSerializer } } }

export interface Built extends TestDatabase {
  app: FastifyInstance
  /** Signs a token with the app's secret. */
  token: (claims: Record<string, unknown>) => string
  /** `{ authorization: 'Bearer …' }` for a user with optional extra claims. */
  as: (sub: string, extra?: Record<string, unknown>) => { authorization: string }
}

/**
 * The resource types the tests grant on through the service API without a
 * route naming them, declared as a host declares its own (`resources`).
 */
export const TEST_RESOURCES = ['document', 'folder', 'doc', 'ticket', 'note', 'asset', 'team', 'page', 'group', 'r'] as const

export async function build (
  t: Teardown,
  options: Partial<FastifyDefaultDenyOptions> = {},
  fastifyOptions: FastifyServerOptions = {}
): Promise<Built> {
  // Already migrated (test/migrated-helper.ts), unless the test asks for no
  // migrations or brings its own database or schema.
  const own = ['db', 'schema', 'connectionString'].some((key) => key in options)
  const { db, schema } = await testDatabase(t, { migrated: !own && options.migrate !== false })
  const app = Fastify({ ...FASTIFY_TEST_OPTIONS, ...fastifyOptions })
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  await app.register(defaultDeny, { db, schema, resources: TEST_RESOURCES, ...options })
  // Registered before the database teardown, so it runs first (LIFO).
  t.teardown(async () => { await app.close() })
  const token = (claims: Record<string, unknown>) => app.jwt.sign(claims)
  return {
    app,
    db,
    schema,
    token,
    as: (sub, extra = {}) => ({ authorization: `Bearer ${token({ sub, ...extra })}` })
  }
}

/** A Fastify logger at `level` whose JSON lines end up in `lines`, for asserting what was logged. */
export function logCapture (level = 'info') {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
      callback()
    }
  })
  return { lines, logger: { level, stream } }
}

/**
 * Registers the plugin with `options` without awaiting it, as a host would,
 * so that an option error surfaces in `ready()`, which this returns.
 */
export async function readyWith (t: Teardown, options: Record<string, unknown>): Promise<void> {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  app.register(defaultDeny, { db, schema, ...options } as never)
  await app.ready()
}

/**
 * Whether the grant table has been analyzed (its columns have statistics) and
 * vacuumed (pages marked all-visible): what the embedded database, which runs
 * no autovacuum, has only after the plugin or the CLI asks for it.
 */
export async function grantTableMaintained (db: Kysely<any>, schema: string): Promise<{ statistics: boolean, allVisible: boolean }> {
  const { rows } = await sql<{ analyzed: number, visible: number }>`
    select (select count(*)::int from pg_catalog.pg_stats where schemaname = ${schema} and tablename = 'default_deny_grant') as analyzed,
      (select relallvisible::int from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relname = 'default_deny_grant') as visible`.execute(db)
  return { statistics: (rows[0]?.analyzed ?? 0) > 0, allVisible: (rows[0]?.visible ?? 0) > 0 }
}

/** Every grant and owner row and the number of audit entries: equal before and after proves nothing was written. */
export async function snapshot (db: Kysely<any>, schema: string) {
  const scoped = db.withSchema(schema)
  const grants = await scoped.selectFrom('default_deny_grant').selectAll().orderBy('id').execute()
  const resources = await scoped.selectFrom('default_deny_resource').selectAll().orderBy('resource_type').orderBy('resource_id').execute()
  const audit = await scoped.selectFrom('default_deny_audit').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  return { grants, resources, audit: audit.n }
}

/**
 * olga owns document d1 and carol holds read and edit on it, so revokes have
 * something to remove; a token with `su: true` is a superuser.
 */
export async function olgaOwnsD1 (t: Teardown, fastifyOptions: FastifyServerOptions = {}): Promise<Built> {
  const built = await build(t, { superuserClaim: 'su' }, fastifyOptions)
  await built.app.ready()
  const p = built.app.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' }, { actor: 'olga', reason: 'created' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'edit', grantedBy: 'olga' })
  return built
}

/** The example served by `npm start`, seeded, on this test's database; `auth` signs a token. */
export async function exampleApp (t: Teardown): Promise<TestDatabase & { app: ExampleApp, auth: (claims: Record<string, unknown>) => { authorization: string } }> {
  const { db, schema } = await testDatabase(t, { migrated: true })
  const app = await buildExample({ db, secret: SECRET, schema })
  t.teardown(() => app.close())
  await seedExample(app, db, schema)
  return { db, schema, app, auth: (claims) => ({ authorization: `Bearer ${app.jwt.sign(claims)}` }) }
}

/** A write's result without its revision (a position that differs each run), for comparing the rest exactly. */
export function withoutRevision<T extends { revision?: unknown }> (result: T): Omit<T, 'revision'> {
  const { revision: _revision, ...rest } = result
  return rest
}

/**
 * Makes a user's grants expired a minute ago, behind the plugin's back: no
 * caller may grant in the past (such a grant never counts), so a test that
 * needs an expired grant writes one in the future and then moves its expiry.
 */
export async function expireGrantsOf (db: Kysely<any>, schema: string, user: string): Promise<void> {
  await sql`update ${sql.id(schema, 'default_deny_grant')} set expires_at = now() - interval '1 minute' where principal_id = ${user}`.execute(db)
}

/**
 * Makes a user's scheduled grants start a second ago, behind the plugin's
 * back: what waiting for their start would do, without waiting on the clock.
 */
export async function startGrantsOf (db: Kysely<any>, schema: string, user: string): Promise<void> {
  await sql`update ${sql.id(schema, 'default_deny_grant')} set starts_at = now() - interval '1 second' where principal_id = ${user}`.execute(db)
}
