// sql/least-privilege.sql, for real: the role it creates runs grants, checks
// and the audit trail through the plugin (migrate: false), and PostgreSQL
// refuses it any change to the audit trail. On PostgreSQL the plugin
// connects as that role, and the tables belong to a separate owner role
// that ran the migrations; on PGlite (one session) the session switches to
// the role with SET ROLE.
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import t, { type Test } from 'tap'
import jwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import defaultDeny, { runMigrations } from '../../lib/index.js'
import { postgresKysely } from '../../lib/store/postgres.js'
import { SECRET, testDatabase, usingPostgres, withoutRevision } from '../helper.js'
import { ids } from '../security-helper.js'

const SQL_FILE = new URL('../../sql/least-privilege.sql', import.meta.url)

/**
 * The file's statements with psql's `:"name"` interpolation done (all the
 * file uses), one by one: PGlite runs one statement per query.
 */
async function leastPrivilegeSql (vars: Record<string, string>): Promise<string[]> {
  const text = await readFile(SQL_FILE, 'utf8')
  const code = text.split('\n').filter((line) => !line.startsWith('--')).join('\n')
  const interpolated = code.replace(/:"(\w+)"/g, (_match, name: string) => {
    const value = vars[name]
    if (value === undefined) throw new Error(`no value for :"${name}"`)
    return `"${value.replace(/"/g, '""')}"`
  })
  return interpolated.split(';').map((statement) => statement.trim()).filter((statement) => statement !== '')
}

async function runFile (db: Kysely<any>, vars: Record<string, string>): Promise<void> {
  for (const statement of await leastPrivilegeSql(vars)) await sql.raw(statement).execute(db)
}

const urlAs = (role: string) => {
  const url = new URL(process.env.DATABASE_URL as string)
  url.username = role
  url.password = ''
  return url.toString()
}

async function app (t: { teardown: (fn: () => unknown) => void }, options: Record<string, unknown>): Promise<FastifyInstance> {
  const instance = Fastify()
  t.teardown(async () => { await instance.close() })
  await instance.register(jwt, { secret: SECRET, verify: { algorithms: ['HS256'] } })
  await instance.register(defaultDeny, { migrate: false, superuserClaim: 'admin', hierarchy: { moveStep: 1, types: { document: { parents: ['folder'] }, folder: { parents: ['folder'] } } }, ...options } as never)
  instance.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'the document')
  await instance.ready()
  return instance
}

/** Grants, a check over HTTP, a membership, the audit trail and its verification, all as the app's role. */
async function exercise (t: Test, instance: FastifyInstance): Promise<void> {
  const p = instance.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' }, { actor: 'olga' })
  t.same(withoutRevision(await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd1', privilege: 'read' }, { actor: 'olga' })), { created: true, changed: true })
  t.same(withoutRevision(await p.addMember({ group: 'staff', member: { kind: 'user', id: 'carol' } }, { actor: 'olga' })), { added: true })
  const carol = { authorization: `Bearer ${instance.jwt.sign({ sub: 'carol' })}` }
  t.equal((await instance.inject({ url: '/documents/d1', headers: carol })).statusCode, 200, 'the check allows through the stored group')
  t.equal((await instance.inject({ url: '/documents/d2', headers: carol })).statusCode, 403)
  const olga = { authorization: `Bearer ${instance.jwt.sign({ sub: 'olga' })}` }
  const posted = await instance.inject({
    method: 'POST', url: '/permissions/document/d1/grants', headers: olga, payload: { grantee: { kind: 'user', id: 'dave' }, privilege: 'read' }
  })
  t.equal(posted.statusCode, 201, 'the grant API writes, locking the actor\'s rights FOR SHARE')
  t.same(withoutRevision(await p.revoke({ grantee: { kind: 'user', id: 'dave' }, resource: 'document', id: 'd1', privilege: 'read' })), { removed: true })
  t.same(withoutRevision(await p.removeMember({ group: 'staff', member: { kind: 'user', id: 'carol' } })), { removed: true })
  t.same(withoutRevision(await p.purgeExpired()), { purged: 0 })
  // Resource hierarchies: the closure's triggers run as this role, and a write locks the actor's inherited rights FOR SHARE.
  await p.setParent({ resource: 'document', id: 'd3' }, { resource: 'folder', id: 'f1' })
  await p.grant({ grantee: { kind: 'user', id: 'olga' }, resource: 'folder', id: 'f1', privilege: 'manage' })
  await p.grant({ grantee: { kind: 'user', id: 'olga' }, resource: 'folder', id: 'f1', privilege: 'read' })
  t.equal((await instance.inject({ url: '/documents/d3', headers: olga })).statusCode, 200, 'a grant on the folder counts on the document')
  const below = await instance.inject({
    method: 'POST', url: '/permissions/document/d3/grants', headers: olga, payload: { grantee: { kind: 'user', id: 'dave' }, privilege: 'read' }
  })
  t.equal(below.statusCode, 201, 'a manager of the folder grants on the document')
  // A move with something below it runs in steps, recorded until the last one.
  await p.setParent({ resource: 'document', id: 'd4' }, { resource: 'folder', id: 'f1' })
  await p.setParent({ resource: 'folder', id: 'f1' }, { resource: 'folder', id: 'f0' })
  t.same((await p.ancestors({ resource: 'document', id: 'd4' })).map((a) => a.id), ['f1', 'f0'], 'a move in steps')
  await p.setParent({ resource: 'folder', id: 'f1' }, null)
  await p.setParent({ resource: 'document', id: 'd3' }, null)
  await p.forgetResource({ resource: 'document', id: 'd1' })
  const entries = (await p.audit({ limit: 100 })).length
  t.ok(entries >= 10, `every change appended to the audit trail (${entries} entries)`)
  t.match(await p.verifyAudit(), { ok: true, entries, brokenCount: 0 })
}

async function refused (t: Test, db: Kysely<any>, schema: string, statement: string): Promise<void> {
  const audit = sql.id(schema, 'default_deny_audit')
  const query = statement === 'update'
    ? sql`update ${audit} set reason = 'rewritten'`
    : statement === 'delete' ? sql`delete from ${audit}` : sql`truncate ${audit}`
  await t.rejects(query.execute(db), { code: '42501' }, `${statement} on the audit table: permission denied`)
}

t.test('PostgreSQL: an owner role migrates, the least-privilege role runs the plugin', { skip: !usingPostgres && 'needs PostgreSQL (DATABASE_URL)' }, async (t) => {
  const { db, schema } = await testDatabase(t)
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`
  const owner = `dd_owner_${suffix}`
  const role = `dd_app_${suffix}`
  await sql`create role ${sql.id(owner)} login`.execute(db)
  t.teardown(async () => {
    for (const name of [role, owner]) {
      await sql`drop owned by ${sql.id(name)} cascade`.execute(db).catch(() => {})
      await sql`drop role if exists ${sql.id(name)}`.execute(db)
    }
  })
  await sql`create schema ${sql.id(schema)} authorization ${sql.id(owner)}`.execute(db)
  const ownerDb = postgresKysely(urlAs(owner), { max: 2 })
  t.teardown(async () => { await ownerDb.destroy() })
  await runMigrations(ownerDb, { schema })
  // CREATE ROLE needs a role that may create roles: the administrator runs the file.
  await runFile(db, { schema, role })

  const asOwner = await app(t, { connectionString: urlAs(owner), schema, grantRoutes: false })
  const ownerFindings = await asOwner.permissions.checkSecurity()
  t.same(ids(ownerFindings).filter((id) => id.startsWith('db-')), ['db-role-too-broad'], 'the owner role is more than the plugin needs')
  t.match(ownerFindings.find((finding) => finding.id === 'db-role-too-broad')?.message,
    /owns the plugin's tables, may update or delete audit entries, may create objects in the plugin's schema/)

  const asApp = await app(t, { connectionString: urlAs(role), schema })
  t.same(ids(await asApp.permissions.checkSecurity()).filter((id) => id.startsWith('db-')), [], 'the least-privilege role: no database finding')
  await exercise(t, asApp)

  const appDb = postgresKysely(urlAs(role), { max: 1 })
  t.teardown(async () => { await appDb.destroy() })
  for (const statement of ['update', 'delete', 'truncate']) await refused(t, appDb, schema, statement)
  await t.rejects(sql`create table ${sql.id(schema, 'intruder')} (x int)`.execute(appDb), { code: '42501' }, 'no DDL in the schema')
  await t.rejects(sql`select * from ${sql.id(schema, 'default_deny_migration')}`.execute(appDb), { code: '42501' }, 'no access to the migration tables')
  t.match(await asApp.permissions.verifyAudit(), { ok: true, brokenCount: 0 }, 'the trail is intact')
})

t.test('PGlite: the same role, taken with SET ROLE', { skip: usingPostgres && 'PGlite only' }, async (t) => {
  const { db, schema } = await testDatabase(t)
  const role = `dd_app_${process.pid}_${randomBytes(3).toString('hex')}`
  await runMigrations(db, { schema })
  await runFile(db, { schema, role })
  t.teardown(async () => {
    await sql`reset role`.execute(db)
    await sql`drop owned by ${sql.id(role)} cascade`.execute(db)
    await sql`drop role ${sql.id(role)}`.execute(db)
  })
  await sql`set role ${sql.id(role)}`.execute(db)
  t.same((await sql<{ user: string }>`select current_user as user`.execute(db)).rows, [{ user: role }])

  const asApp = await app(t, { db, schema })
  await exercise(t, asApp)
  for (const statement of ['update', 'delete', 'truncate']) await refused(t, db, schema, statement)
  t.match(await asApp.permissions.verifyAudit(), { ok: true, brokenCount: 0 }, 'the trail is intact')
})
