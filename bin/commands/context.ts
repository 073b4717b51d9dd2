// What every command shares: the global options, the database, the plugin on
// a Fastify instance that never listens, the output in words or JSON, and
// how an error becomes an exit code. The commands only parse and print; what
// they do is the service API's (`app.permissions`).
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CommanderError, type Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { DefaultDenyApi, FastifyDefaultDenyOptions, GranteeRef, MemberRef, Principal, ResourceRef } from '../../fastify-plugin.js'
import { reasonOf } from '../../lib/error-reason.js'
import { io } from './io.js'
import { visible } from './terminal.js'
import { parseInstant as instantOf } from '../../lib/decision/instant.js'

// Fastify, the plugin and the drivers load when a command needs the
// database: --help and usage errors answer at once.

/** The exit codes scripts can rely on (README, "Command-line tool"). */
export const EXIT = Object.freeze({ OK: 0, FAILURE: 1, USAGE: 2, REFUSED: 3, CHECK_FAILED: 4, AUDIT_BROKEN: 5, TESTS_FAILED: 6 })

/** Bad arguments or a bad config module: exit 2. */
export class UsageError extends Error {}

/** The input was understood and refused (an invalid grant, a bad import row): exit 3. */
export class RefusedError extends Error {
  constructor (message: string, readonly details?: unknown) { super(message) }
}

// The service API's refusals of what it was asked: the caller's input, not the system, is at fault.
const REFUSALS = new Set([
  'FST_DEFAULT_DENY_INVALID_GRANT', 'FST_DEFAULT_DENY_INELIGIBLE', 'FST_DEFAULT_DENY_ESCALATION',
  'FST_DEFAULT_DENY_LAST_MANAGER', 'FST_DEFAULT_DENY_NOT_FOUND', 'FST_DEFAULT_DENY_INVALID_REQUEST'
])

export type GlobalOptions = {
  schema?: string
  config?: string
  json?: boolean
}

export const globals = (command: Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>()

/** Prints a result: the words on a terminal, or exactly one JSON document with `--json`, naming the database it came from. */
export function print (command: Command, words: string | string[], json: object): void {
  const { stdout, opened } = io()
  if (globals(command).json === true) stdout.write(`${JSON.stringify(opened === undefined ? json : { database: opened, ...json }, null, 2)}\n`)
  else for (const line of Array.isArray(words) ? words : [words]) stdout.write(`${visible(line)}\n`)
}

/** The plugin options from `--config`: the module's default export (or `options`), an object or a function returning one. */
export async function loadConfig (file: string | undefined): Promise<Record<string, unknown>> {
  if (file === undefined) return {}
  let loaded: Record<string, unknown>
  try {
    loaded = await import(pathToFileURL(resolve(file)).href) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`--config ${file}: ${reasonOf(err)}`)
  }
  let options = loaded.default ?? loaded.options
  if (typeof options === 'function') options = await (options as () => unknown)()
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new UsageError(`--config ${file}: its default export must be the plugin's options object (or a function returning it)`)
  }
  return options as Record<string, unknown>
}

/** Where the tool's database is: PostgreSQL at a URL, or an embedded directory. */
export type DatabaseLocation = { kind: 'postgres', url: string, from: string } | { kind: 'embedded', dir: string }

/**
 * PostgreSQL at DATABASE_URL (or the config's `connectionString`), otherwise
 * the embedded database in PGLITE_DIR, as the example uses. A URL the plugin
 * would refuse is refused here by the same rule.
 */
export async function databaseLocation (config: Record<string, unknown>): Promise<DatabaseLocation> {
  const env = io().env.DATABASE_URL
  const [url, from] = env !== undefined && env !== '' ? [env, 'DATABASE_URL'] : [config.connectionString, "the config's connectionString"]
  if (url !== undefined) {
    const { postgresUrl } = await import('../../lib/options/values.js')
    try {
      return { kind: 'postgres', url: postgresUrl('connectionString', url), from }
    } catch (err) {
      throw new UsageError(`${from}: ${(err as Error).message}`)
    }
  }
  const { DEFAULT_PGLITE_DIR } = await import('../../lib/store/pglite.js')
  const dir = io().env.PGLITE_DIR
  return { kind: 'embedded', dir: resolve(dir !== undefined && dir !== '' ? dir : DEFAULT_PGLITE_DIR) }
}

/** How output names a database: its path, or its URL without password or parameters (which may carry one). */
export function databaseText (location: DatabaseLocation): string {
  if (location.kind === 'embedded') return `embedded ${location.dir}`
  try {
    const url = new URL(location.url)
    const user = url.username === '' ? '' : `${url.username}@`
    return `${url.protocol}//${user}${url.host}${url.pathname}`
  } catch {
    return `${location.url.slice(0, location.url.indexOf(':'))}:// (a URL that does not parse)`
  }
}

/** An embedded database that is not there: only `migrate up` creates one. */
export class MissingDatabaseError extends Error {
  readonly code = 'no-database'
}

/** The database the command opened, as its output names it (undefined before it opened one). */
export const openedDatabase = (): string | undefined => io().opened

/**
 * Opens the database and says which, on standard error unless `--json`
 * (where `print` adds it as `database`). Only `create` (migrate up) may make
 * a new embedded one: anywhere else a missing one is an error naming the
 * path, and nothing is created.
 */
export async function openDatabase (command: Command, config: Record<string, unknown>, { create = false } = {}): Promise<Kysely<any>> {
  const location = await databaseLocation(config)
  const text = databaseText(location)
  let db: Kysely<any>
  if (location.kind === 'postgres') {
    const { postgresKysely } = await import('../../lib/store/postgres.js')
    db = postgresKysely(location.url, { max: 2, connectionTimeoutMillis: 10_000 })
  } else {
    if (!create && !existsSync(join(location.dir, 'PG_VERSION'))) {
      throw new MissingDatabaseError(`no embedded database in ${location.dir}: create it with 'fastify-default-deny migrate up', or point PGLITE_DIR (or DATABASE_URL) at your database`)
    }
    // PGlite is loaded only here: it is an optional peer dependency.
    const { createPGliteKysely } = await import('../../lib/store/pglite.js')
    db = await createPGliteKysely(location.dir)
  }
  io().opened = text
  if (globals(command).json !== true) io().stderr.write(`database: ${text}\n`)
  return db
}

export function schemaOf (command: Command, config: Record<string, unknown>): string {
  const schema = globals(command).schema ?? config.schema ?? 'public'
  if (typeof schema !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new UsageError(`--schema: '${String(schema)}' is not a schema name`)
  return schema
}

/** Opens the database for `work` and always closes it. */
export async function withDatabase<T> (
  command: Command, work: (db: Kysely<any>, schema: string, config: Record<string, unknown>) => Promise<T>, { create = false } = {}
): Promise<T> {
  const config = await loadConfig(globals(command).config)
  const schema = schemaOf(command, config)
  const db = await openDatabase(command, config, { create })
  try {
    return await work(db, schema, config)
  } finally {
    await db.destroy()
  }
}


export interface Context {
  permissions: DefaultDenyApi
  app: FastifyInstance
  db: Kysely<any>
  schema: string
  config: Record<string, unknown>
}

/**
 * The plugin with the operator's options (`--config`), on the CLI's own
 * database and schema, without routes, migrations or file watching: the
 * service API shared with the HTTP routes.
 */
export async function withPermissions<T> (command: Command, work: (context: Context) => Promise<T>, { asConfigured = false } = {}): Promise<T> {
  return await withDatabase(command, async (db, schema, config) => {
    const [{ default: Fastify }, { default: fp }, { default: defaultDeny }, { FINDING_IDS }] = await Promise.all([
      import('fastify'), import('fastify-plugin'), import('../../lib/index.js'), import('../../lib/security/findings.js')
    ])
    // The plugin asks for @fastify/jwt because it verifies requests' tokens;
    // this instance never serves a request, so it gets the one decorator the
    // plugin checks for, and no secret is needed. Were a request ever routed
    // here, the verification would fail, and the plugin answers that with 401.
    const noTokens = fp(async (fastify) => {
      fastify.decorateRequest('jwtVerify', async function () { throw new Error('the command-line tool verifies no tokens') })
    }, { name: '@fastify/jwt' })
    const app = Fastify({ logger: false })
    try {
      const { connectionString: _url, db: _db, ...rest } = config
      const location = await databaseLocation(config)
      const url = location.kind === 'postgres' ? location.url : undefined
      // asConfigured: for the self-check to judge, the grant routes as configured and the plugin's own pool on the URL.
      const options = {
        ...rest,
        ...(asConfigured && url !== undefined ? { connectionString: url } : { db }),
        schema,
        migrate: false,
        watchRules: false,
        // This instance serves no request, so the self-check's findings about
        // it (no HTTPS, say) must not stop an operator's command in production:
        // `check` reports them.
        ...(asConfigured ? {} : { grantRoutes: false, acknowledge: FINDING_IDS })
      } as FastifyDefaultDenyOptions
      await app.register(noTokens)
      await app.register(defaultDeny, options)
      await readyForCheck(app, asConfigured)
      return await work({ permissions: app.permissions, app, db, schema, config })
    } finally {
      await app.close()
    }
  })
}

/**
 * `app.ready()`. With NODE_ENV=production an error finding of the
 * self-check stops it (FST_DEFAULT_DENY_INSECURE); the check command still
 * wants every finding, and the instance has all it needs to ask again.
 */
export async function readyForCheck (app: FastifyInstance, forCheck: boolean): Promise<void> {
  try {
    await app.ready()
  } catch (err) {
    if (!forCheck || (err as { code?: unknown }).code !== 'FST_DEFAULT_DENY_INSECURE') throw err
  }
}

/** `user:ID`, `group:ID` or `anonymous`. */
export function parseGrantee (text: string, what = 'grantee'): GranteeRef {
  if (text === 'anonymous') return { kind: 'anonymous' }
  const member = parseMember(text, what, "'user:ID', 'group:ID' or 'anonymous'")
  return member
}

/** `user:ID` or `group:ID`. */
export function parseMember (text: string, what = 'member', forms = "'user:ID' or 'group:ID'"): MemberRef {
  const colon = text.indexOf(':')
  const kind = text.slice(0, colon)
  const id = text.slice(colon + 1)
  if (colon < 1 || (kind !== 'user' && kind !== 'group') || id === '') throw new UsageError(`${what} '${text}': expected ${forms}`)
  return { kind, id }
}

/** A principal as the check sees it: `user:ID` or `anonymous`, with token groups. */
export function parsePrincipal (text: string, groups: string[] = []): Principal {
  if (text === 'anonymous') return { kind: 'anonymous', id: null, groups, superuser: false, claims: null }
  const colon = text.indexOf(':')
  if (!text.startsWith('user:') || text.length === colon + 1) throw new UsageError(`principal '${text}': expected 'user:ID' or 'anonymous'`)
  return { kind: 'user', id: text.slice(colon + 1), groups, superuser: false, claims: null }
}

/** `<resource> [id]`, with `--type-level` instead of an id for every resource of the type. */
export function parseTarget (resource: string, id: string | undefined, typeLevel: boolean | undefined): ResourceRef {
  if (typeLevel === true && id !== undefined) throw new UsageError('give an id or --type-level, not both')
  if (typeLevel !== true && id === undefined) throw new UsageError('give the resource id, or --type-level for every resource of the type')
  return { resource, id: typeLevel === true ? null : id as string }
}

export function parseInstant (text: string, what: string): Date {
  const date = instantOf(text, { dateOnly: true })
  if (date === null) {
    throw new UsageError(`${what} '${text}': expected an ISO 8601 date (2027-01-31) or date-time with offset (2027-01-31T12:00:00Z) that exists on the calendar`)
  }
  return date
}

export function parseCount (name: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text)
    if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${name} '${text}': expected a whole number from ${min} to ${max}`)
    return n
  }
}

export const collect = (value: string, previous: string[]): string[] => [...previous, value]

export const granteeText = (grantee: GranteeRef): string => grantee.kind === 'anonymous' ? 'anonymous' : `${grantee.kind}:${grantee.id}`
export const targetText = (target: ResourceRef): string => target.id === null ? `every ${target.resource} (type-level)` : `${target.resource}/${target.id}`

/** The write options every audited command takes. */
export function audited (command: Command): Command {
  return command
    .option('--actor <id>', 'who makes the change, recorded in the audit trail')
    .option('--reason <text>', 'why, recorded in the audit trail')
}

/** The exit code for an error, and what to say about it. */
export function failure (err: unknown): { code: number, message: string, errorCode?: string, details?: unknown } {
  if (err instanceof CommanderError) {
    // Asked-for help exits 0; help shown for a missing subcommand, like every parse error, is a usage error.
    return { code: err.exitCode === 0 ? EXIT.OK : EXIT.USAGE, message: err.message, errorCode: err.code }
  }
  if (err instanceof UsageError) return { code: EXIT.USAGE, message: err.message, errorCode: 'usage' }
  if (err instanceof RefusedError) return { code: EXIT.REFUSED, message: err.message, errorCode: 'refused', details: err.details }
  const code = (err as { code?: unknown }).code
  if (code === 'FST_DEFAULT_DENY_INVALID_OPTION') return { code: EXIT.USAGE, message: `config: ${(err as Error).message}`, errorCode: code }
  if (typeof code === 'string' && REFUSALS.has(code)) return { code: EXIT.REFUSED, message: (err as Error).message, errorCode: code }
  if (code === 'FST_DEFAULT_DENY_INSECURE') {
    return { code: EXIT.CHECK_FAILED, message: `${(err as Error).message} (see: fastify-default-deny check; accept a finding with the acknowledge option)`, errorCode: code }
  }
  let message = reasonOf(err)
  const cause = (err as Error).cause
  if (cause !== undefined && !message.includes(reasonOf(cause))) message += `: ${reasonOf(cause)}`
  // 42P01: undefined table. The CLI never migrates by itself.
  if (code === '42P01' || (cause as { code?: unknown } | undefined)?.code === '42P01') {
    const opened = io().opened
    message += ` (are the migrations applied${opened === undefined ? '' : ` to ${opened}`}? run: fastify-default-deny migrate up)`
  }
  return { code: EXIT.FAILURE, message, ...(typeof code === 'string' ? { errorCode: code } : {}) }
}
