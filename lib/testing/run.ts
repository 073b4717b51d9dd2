// The runner: every fixture in a fresh world of its own (its own schema in
// one in-memory embedded database, the plugin registered with the fixture's
// options), several at a time since they share nothing but the database's
// one connection; then, with the host's app, whether the fixtures cover its
// routes.
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import jwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import { glob, isDynamicPattern } from 'tinyglobby'
import type { FastifyDefaultDenyOptions, RouteManifestEntry } from '../../fastify-plugin.js'
import defaultDeny from '../index.js'
import { reasonOf } from '../error-reason.js'
import { FINDING_IDS } from '../security/findings.js'
import { runAssertion, typesExercised, type AssertionResult, type Subject, type Subjects } from './assertions.js'
import { FixtureError, type Asking, type Fixture } from './fixture.js'
import { loadFixture } from './load.js'
import { clockOf, worldTypes, writeWorld } from './world.js'

/** Builds the host's app, with the plugin registered on `db` (and not listening): called once per fixture that needs it. */
export type AppBuilder = (context: { db: Kysely<any> }) => FastifyInstance | Promise<FastifyInstance>

export interface PolicyTestOptions {
  /** The host's app: enables route assertions and route coverage. */
  app?: AppBuilder | undefined
  /** Fixtures run at once (default: up to 4, fewer on fewer cores). */
  concurrency?: number | undefined
  /** Where relative files and globs are read from (default: the current directory). */
  cwd?: string | undefined
}

export interface FixtureResult {
  file: string
  name?: string
  /** Why the fixture could not run: an invalid document, or a world the plugin refused. */
  error?: FixtureError | Error
  assertions: AssertionResult[]
  ok: boolean
}

export interface CoverageResult {
  ok: boolean
  /** 'METHOD /url' of each route no request can pass (no annotation, or registered before the plugin). */
  unannotated: string[]
  /** Each resource type a route needs that no assertion exercises, with those routes. */
  unexercised: Array<{ resource: string, routes: string[] }>
}

export interface PolicyTestRun {
  fixtures: FixtureResult[]
  /** null without the host's app. */
  coverage: CoverageResult | null
  passed: number
  failed: number
  /** Fixtures that could not run. */
  invalid: number
  ok: boolean
}

/** The host's app could not be used: its builder failed, or it did not use the database it was given. */
export class AppError extends Error {
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AppError'
  }
}

/** The files the patterns name, in order and once each; a pattern matching nothing is an error. */
export async function expandFiles (patterns: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const files: string[] = []
  for (const pattern of patterns) {
    const found = isDynamicPattern(pattern) ? (await glob(pattern, { cwd, onlyFiles: true, expandDirectories: false })).sort() : [pattern]
    if (found.length === 0) throw new Error(`no fixture file matches ${pattern}`)
    for (const file of found) if (!files.includes(file)) files.push(file)
  }
  return files
}

const signer = (app: FastifyInstance, options: Record<string, unknown>) => (asking: Asking): Record<string, string> => {
  if (asking.principal === 'anonymous') return {}
  if (typeof app.jwt?.sign !== 'function') throw new Error('the app has no @fastify/jwt to sign a token with')
  const claims: Record<string, unknown> = { [String(options.userClaim ?? 'sub')]: asking.principal.slice('user:'.length), [String(options.groupsClaim ?? 'groups')]: asking.groups ?? [] }
  if (asking.superuser === true && typeof options.superuserClaim === 'string') claims[options.superuserClaim] = true
  return { authorization: `Bearer ${app.jwt.sign(claims)}` }
}

/** The fixture's own instance: the plugin with the fixture's options, the grant API on, in `schema` of `db`. */
async function ownSubject (db: Kysely<any>, schema: string, fixture: Fixture): Promise<Subject> {
  const declared = fixture.options.resources
  const resources = declared === 'any' ? 'any' : [...new Set([...(Array.isArray(declared) ? declared as string[] : []), ...worldTypes(fixture)])]
  const app = Fastify({ logger: false })
  try {
    await app.register(jwt, { secret: randomBytes(32).toString('hex'), verify: { algorithms: ['HS256'] } })
    await app.register(defaultDeny, {
      ...fixture.options, db, schema, resources, migrate: true, grantRoutes: { prefix: '/permissions' },
      // The instance serves no one: the self-check's findings about it must not stop it under NODE_ENV=production.
      acknowledge: FINDING_IDS
    } as FastifyDefaultDenyOptions)
    await app.ready()
  } catch (err) {
    await app.close()
    throw err
  }
  return { app, permissions: app.permissions, db, headers: signer(app, fixture.options) }
}

/** The host's app on a new in-memory database of its own (the host picks its schema). */
async function hostSubject (build: AppBuilder, options: Record<string, unknown>): Promise<Subjects['host'] & { close: () => Promise<void> }> {
  const { createPGliteKysely } = await import('../store/pglite.js')
  const db = await createPGliteKysely()
  let app: FastifyInstance | undefined
  try {
    try {
      app = await build({ db })
      await app.ready()
    } catch (err) {
      throw new AppError(`the app's builder failed: ${reasonOf(err)}`, { cause: err })
    }
    if (typeof app.permissions?.routeManifest !== 'function') throw new AppError('the app has no fastify-default-deny registered')
    // The world is written through the app: make sure it went to the database it was given, never to one of the host's.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_name = 'default_deny_grant'`.execute(db)
    if (rows[0]?.n !== 1) throw new AppError('the app did not register the plugin on the database it was given (use the db passed to your builder)')
    const built = app
    return { app, permissions: app.permissions, db, headers: signer(app, options), manifest: app.permissions.routeManifest(), close: async () => { await built.close(); await db.destroy() } }
  } catch (err) {
    await app?.close()
    await db.destroy()
    throw err
  }
}

async function runFixture (file: string, db: Kysely<any>, options: PolicyTestOptions): Promise<FixtureResult> {
  let fixture: Fixture
  try {
    fixture = await loadFixture(resolve(options.cwd ?? '.', file))
    fixture.file = file
  } catch (err) {
    return { file, error: err instanceof FixtureError ? new FixtureError(file, err.path, err.rule, err.line) : err as Error, assertions: [], ok: false }
  }
  const named = fixture.name === undefined ? {} : { name: fixture.name }
  const schema = `policy_test_${randomBytes(6).toString('hex')}`
  let own: Subject | undefined
  let host: Awaited<ReturnType<typeof hostSubject>> | undefined
  try {
    own = await ownSubject(db, schema, fixture)
    if (options.app !== undefined && fixture.assertions.some((a) => 'route' in a)) host = await hostSubject(options.app, fixture.options)
    const clock = clockOf(fixture)
    await writeWorld(own.permissions, fixture, clock)
    if (host !== undefined) await writeWorld(host.permissions, fixture, clock)
    const subjects: Subjects = { own, clock, ...(host === undefined ? {} : { host }) }
    const assertions: AssertionResult[] = []
    // In order, on one world: a change that should have been refused and was not is seen by the rest.
    for (const [index, assertion] of fixture.assertions.entries()) assertions.push(await runAssertion(subjects, assertion, index))
    return { file, ...named, assertions, ok: assertions.every((a) => a.ok) }
  } catch (err) {
    if (err instanceof AppError) throw err
    const error = err instanceof FixtureError ? err : new FixtureError(file, '/options', `the plugin did not start with these options: ${reasonOf(err)}`)
    return { file, ...named, error, assertions: [], ok: false }
  } finally {
    await own?.app.close()
    await host?.close()
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)
  }
}

/** The host's routes, from an app built once before any fixture runs: a builder that cannot be used stops the run at once. */
async function manifestOf (build: AppBuilder): Promise<RouteManifestEntry[]> {
  const host = await hostSubject(build, {})
  await host.close()
  return host.manifest
}

function coverageOf (manifest: readonly RouteManifestEntry[], fixtures: readonly Fixture[]): CoverageResult {
  // Fastify's automatic HEAD route of a GET says nothing the GET does not.
  const gets = new Set(manifest.filter((r) => r.method === 'GET').map((r) => r.url))
  const routes = manifest.filter((r) => !r.grantApi && !(r.method === 'HEAD' && gets.has(r.url)))
  const exercised = new Set(fixtures.flatMap((f) => f.assertions.flatMap((a) => typesExercised(a, manifest))))
  const unannotated = routes.filter((r) => r.access === 'unannotated' || r.access === 'before-plugin').map((r) => `${r.method} ${r.url}`)
  const needed = new Map<string, string[]>()
  for (const r of routes) {
    if (r.access !== 'resource' || r.resource === undefined || exercised.has(r.resource)) continue
    needed.set(r.resource, [...(needed.get(r.resource) ?? []), `${r.method} ${r.url}`])
  }
  const unexercised = [...needed].map(([resource, names]) => ({ resource, routes: names }))
  return { ok: unannotated.length === 0 && unexercised.length === 0, unannotated, unexercised }
}

/** Runs the fixtures the patterns name and reports every result; it throws only when no file matches or the app cannot be built. */
export async function runPolicyTests (patterns: string | readonly string[], options: PolicyTestOptions = {}): Promise<PolicyTestRun> {
  const files = await expandFiles(typeof patterns === 'string' ? [patterns] : patterns, options.cwd)
  const manifest = options.app === undefined ? null : await manifestOf(options.app)
  const { createPGliteKysely } = await import('../store/pglite.js')
  const db = await createPGliteKysely()
  const results: FixtureResult[] = new Array(files.length)
  try {
    const width = Math.max(1, Math.min(options.concurrency ?? Math.min(4, availableParallelism()), files.length))
    let next = 0
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < files.length) {
        const i = next++
        results[i] = await runFixture(files[i] as string, db, options)
      }
    }))
  } finally {
    await db.destroy()
  }
  const loaded = await Promise.all(results.filter((r) => r.error === undefined).map(async (r) => await loadFixture(resolve(options.cwd ?? '.', r.file))))
  const coverage = manifest === null ? null : coverageOf(manifest, loaded)
  const all = results.flatMap((r) => r.assertions)
  const passed = all.filter((a) => a.ok).length
  const invalid = results.filter((r) => r.error !== undefined).length
  return { fixtures: results, coverage, passed, failed: all.length - passed, invalid, ok: all.length === passed && invalid === 0 && (coverage?.ok ?? true) }
}
