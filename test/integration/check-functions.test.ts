// A host's Kysely on a pool that sends no prepared statements gets the route
// check installed as functions of the plugin's schema (plans kept per
// session). They are generated from the rule at start-up: they must answer
// exactly as the statements do, be what the route runs, carry the rule in
// their name, and a role that may not create them must still be served.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { checkPlan, satisfiedByOf, type Policy } from '../../lib/decision/policy.js'
import { userPrincipal, ANONYMOUS } from '../../lib/decision/principal.js'
import defaultDeny, { runMigrations } from '../../lib/index.js'
import { checkFunctions, installCheckFunctions } from '../../lib/store/check-functions.js'
import { databaseOf } from '../../lib/store/database.js'
import { createStore } from '../../lib/store/index.js'
import { PREPARED_MARKER } from '../../lib/store/rule-sql.js'
import { checkTexts } from '../../lib/store/rule-statements.js'
import { SECRET, testDatabase, usingPostgres } from '../helper.js'

const PRIVILEGES = ['read', 'edit', 'manage']

async function installed (db: Kysely<any>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ proname: string }>`select p.proname from pg_catalog.pg_proc p join pg_catalog.pg_namespace s on s.oid = p.pronamespace
    where s.nspname = ${schema} and p.proname like 'default_deny_check%' order by 1`.execute(db)
  return rows.map((row) => row.proname)
}

t.test('the functions are the statements of the rule as it is now, named by what they run', async (t) => {
  const scope = { schema: 's1', groupDepth: 2 }
  const functions = checkFunctions(scope)
  const body = (text: string) => text.slice(PREPARED_MARKER.length + 1)
  t.ok(functions.install[0].includes(body(checkTexts(scope).one)), 'the check function runs the generated check')
  t.ok(functions.install[1].includes(body(checkTexts(scope).oneUntil)), 'the ttl function runs the generated check with its ttl')
  const others = [checkFunctions({ schema: 's1', groupDepth: 0 }), checkFunctions({ schema: 's1', groupDepth: 3 }), checkFunctions({ schema: 's2', groupDepth: 2 })]
  for (const other of others) t.not(other.names[0], functions.names[0], 'another text, another name')
  t.same(checkFunctions(scope).names, functions.names, 'the same text, the same name')
})

t.test('through the functions, check and checkUntil answer as the statements do', async (t) => {
  const { db, schema } = await testDatabase(t)
  await runMigrations(db, { schema })
  const groups = { groupDepth: 2, groupResource: 'group' }
  const functions = await installCheckFunctions(db, { schema, groupDepth: 2 }, (err) => { t.error(err) })
  t.not(functions, null, 'installed')
  t.same(await installed(db, schema), [...(functions?.names ?? [])].sort(), 'both functions are in the schema')
  const plain = createStore(databaseOf(db), schema, groups).reader
  const called = createStore(databaseOf(db), schema, groups, null, functions).reader
  const g = db.withSchema(schema)
  const row = (kind: string, id: string, resource: string | null, privilege: string, extra: Record<string, unknown> = {}) =>
    ({ principal_kind: kind, principal_id: id, resource_type: 'doc', resource_id: resource, privilege, ...extra })
  await g.insertInto('default_deny_grant').values([
    row('user', 'u1', 'd1', 'read'),
    row('user', 'u1', 'd2', 'edit', { expires_at: sql`now() + interval '1 hour'` }),
    row('user', 'u1', 'd3', 'read', { expires_at: sql`now() - interval '1 hour'` }),
    row('user', 'u1', 'd4', 'read', { starts_at: sql`now() + interval '30 minutes'` }),
    row('group', 'g1', 'd5', 'read'),
    row('group', 'g2', 'd6', 'manage'),
    row('anonymous', '', 'd7', 'read'),
    row('user', 'u2', null, 'edit', { expires_at: sql`now() + interval '2 hours'` })
  ]).execute()
  await g.insertInto('default_deny_resource').values({ resource_type: 'doc', resource_id: 'd8', owner_id: 'u1' }).execute()
  await g.insertInto('default_deny_membership').values({ group_id: 'g2', member_kind: 'user', member_id: 'u1' }).execute()
  const policy: Policy = { satisfiedBy: satisfiedByOf(PRIVILEGES, { manage: ['edit'], edit: ['read'] }), ownerPrivileges: new Set(['read']) }
  const principals = [userPrincipal('u1', ['g1']), userPrincipal('u2', []), userPrincipal('u3', ['g2']), ANONYMOUS]
  let allows = 0
  let timed = 0
  for (const principal of principals) {
    for (const id of ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9', null]) {
      for (const privilege of PRIVILEGES) {
        const query = { principal, resource: 'doc', id, privilege, plan: checkPlan(policy, privilege) }
        const expected = await plain.check(query, {})
        const until = await plain.checkUntil(query, {})
        t.equal(await called.check(query, {}), expected, `${principal.id ?? 'anonymous'} ${privilege} ${id ?? 'type'}`)
        const got = await called.checkUntil(query, {})
        t.equal(got.allowed, until.allowed)
        t.equal(got.ttl === null, until.ttl === null, 'a ttl where the statement has one')
        if (got.ttl !== null && until.ttl !== null) t.ok(Math.abs(got.ttl - until.ttl) < 60_000, 'the same scheduled change')
        if (expected) allows++
        if (got.ttl !== null) timed++
      }
    }
  }
  t.ok(allows > 5 && timed > 3, `allows (${allows}) and scheduled changes (${timed}) were compared, not only denials`)
})

t.test('with a hierarchy, the functions take the edges a path may not cross and answer grants on ancestors as the statements do', async (t) => {
  const { db, schema } = await testDatabase(t)
  await runMigrations(db, { schema })
  const groups = { groupDepth: 2, groupResource: 'group' }
  const hierarchy = { parentTypes: ['folder'] }
  const functions = await installCheckFunctions(db, { schema, groupDepth: 2, hierarchy }, (err) => { t.error(err) })
  t.not(functions, null, 'installed')
  t.not(functions?.names[0], checkFunctions({ schema, groupDepth: 2 }).names[0], 'other functions than without a hierarchy')
  const plain = createStore(databaseOf(db), schema, groups, hierarchy).reader
  const called = createStore(databaseOf(db), schema, groups, hierarchy, functions).reader
  const g = db.withSchema(schema)
  await g.insertInto('default_deny_resource').values({ resource_type: 'doc', resource_id: 'd1', parent_type: 'folder', parent_id: 'f1' }).execute()
  await g.insertInto('default_deny_grant').values({ principal_kind: 'user', principal_id: 'u1', resource_type: 'folder', resource_id: 'f1', privilege: 'read', expires_at: sql`now() + interval '1 hour'` }).execute()
  const policy: Policy = { satisfiedBy: satisfiedByOf(PRIVILEGES, { manage: ['edit'], edit: ['read'] }), ownerPrivileges: new Set(['read']) }
  for (const [user, id, privilege, allowed] of [['u1', 'd1', 'read', true], ['u1', 'd1', 'edit', false], ['u2', 'd1', 'read', false], ['u1', 'd2', 'read', false]] as const) {
    const query = { principal: userPrincipal(user, []), resource: 'doc', id, privilege, plan: checkPlan(policy, privilege) }
    t.equal(await plain.check(query, {}), allowed, `statement: ${user} ${privilege} ${id}`)
    t.equal(await called.check(query, {}), allowed, `function: ${user} ${privilege} ${id}`)
    const until = await called.checkUntil(query, {})
    t.equal(until.allowed, allowed)
    if (allowed) t.ok(until.ttl !== null && until.ttl > 0 && until.ttl <= 3_600_000, "the ancestor grant's expiry bounds the answer")
  }
})

// A Kysely over a plain pg.Pool, as the README's Usage shows first.
function hostKysely (options: pg.PoolConfig = {}): { db: Kysely<any>, pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2, ...options })
  return { db: new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), pool }
}

t.test('a plugin on a host Kysely over a plain pg.Pool installs the functions and its route runs them', { skip: !usingPostgres && 'PostgreSQL only: a host pool' }, async (t) => {
  const { db: setup, schema } = await testDatabase(t)
  const { db } = hostKysely()
  t.teardown(async () => { await db.destroy() })
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema, grantRoutes: false, resources: ['doc'] })
  app.get('/doc/:id', { config: { permission: { resource: 'doc', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  t.teardown(async () => { await app.close() })
  await app.permissions.grant({ grantee: { kind: 'user', id: 'u1' }, resource: 'doc', id: 'd1', privilege: 'read' })
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'u1' })}` }
  t.equal((await app.inject({ url: '/doc/d1', headers })).statusCode, 200)
  t.equal((await app.inject({ url: '/doc/d2', headers })).statusCode, 403)
  const names = await installed(setup, schema)
  t.equal(names.length, 2, 'installed at start-up')
  // What the route runs: without its functions it can no longer decide (and fails closed).
  for (const name of names) await sql.raw(`drop function "${schema}".${name}`).execute(setup)
  t.equal((await app.inject({ url: '/doc/d1', headers })).statusCode, 503, 'the route called the function')
})

t.test('a role that may not create functions is served by the statements, with a warning', { skip: !usingPostgres && 'PostgreSQL only: roles' }, async (t) => {
  const { db: setup, schema } = await testDatabase(t)
  await runMigrations(setup, { schema })
  const role = `dd_reader_${randomBytes(4).toString('hex')}`
  await sql.raw(`create role ${role}; grant usage on schema "${schema}" to ${role};
    grant select on all tables in schema "${schema}" to ${role}`).execute(setup)
  t.teardown(async () => { await sql.raw(`drop owned by ${role}; drop role ${role}`).execute(setup) })
  const { db } = hostKysely({ options: `-c role=${role}` })
  t.teardown(async () => { await db.destroy() })
  const warnings: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { warnings.push(String(JSON.parse(line).msg)) } } } })
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema, migrate: false, grantRoutes: false, resources: ['doc'] })
  app.get('/doc/:id', { config: { permission: { resource: 'doc', privilege: 'read' } } }, async () => 'ok')
  await app.ready()
  t.teardown(async () => { await app.close() })
  await setup.withSchema(schema).insertInto('default_deny_grant')
    .values({ principal_kind: 'user', principal_id: 'u1', resource_type: 'doc', resource_id: 'd1', privilege: 'read' }).execute()
  const headers = { authorization: `Bearer ${app.jwt.sign({ sub: 'u1' })}` }
  t.equal((await app.inject({ url: '/doc/d1', headers })).statusCode, 200)
  t.equal((await app.inject({ url: '/doc/d2', headers })).statusCode, 403)
  t.same(await installed(setup, schema), [], 'nothing installed')
  t.ok(warnings.some((msg) => msg.includes('cannot install the route check as functions')), 'the log says why')
})
