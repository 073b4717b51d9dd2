import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Migrator, sql, type Kysely } from 'kysely'
import { runMigrations, MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../../lib/store/migrate.js'
import { runCli } from '../cli-helper.js'
import { privateDatabase, testDatabase, usingPostgres } from '../helper.js'

const ALL = ['20261125070000_create_grants', '20261125080000_create_audit', '20261129120000_grant_starts_at', '20261202120000_resource_owner_idx', '20261203090000_group_membership', '20261204090000_change_notify', '20261206120000_membership_closure_delta', '20261207090000_resource_hierarchy', '20261208090000_stepped_moves', '20261209090000_covering_check_indexes', '20261210090000_audit_chain_links']

async function tables (db: Kysely<any>, schema: string): Promise<string[]> {
  const rows = await db.selectFrom('information_schema.tables')
    .select('table_name')
    .where('table_schema', '=', schema)
    .orderBy('table_name')
    .execute()
  return rows.map((row) => row.table_name as string)
}

/** The host's own migrator (Kysely's, unchanged): its error, if any. */
async function hostMigrate (migrator: Migrator): Promise<string | undefined> {
  const { error } = await migrator.migrateToLatest()
  return error === undefined ? undefined : error instanceof Error ? error.message : String(error)
}

t.test('up, again (idempotent), down, up beside a host kysely_migration table', async (t) => {
  // Kysely's Migrator reads the catalogue of the whole database: in the
  // shared one, other files' schemas dropped under it fail its migrations.
  const { db, schema } = await privateDatabase(t)
  const host = db.withSchema(schema)
  // The host app's own migrations use Kysely's default table names.
  const hostMigrator = new Migrator({
    db: host,
    migrationTableSchema: schema,
    provider: {
      getMigrations: async () => ({
        '0001_host_documents': {
          up: async (db: Kysely<any>) => { await db.schema.createTable('documents').addColumn('id', 'text', (c) => c.primaryKey()).execute() },
          down: async (db: Kysely<any>) => { await db.schema.dropTable('documents').execute() }
        }
      })
    }
  })
  t.notOk(await hostMigrate(hostMigrator))

  t.same(await runMigrations(db, { schema }), ALL)
  t.same(await runMigrations(db, { schema }), [], 'a second run does nothing')
  t.same(await tables(db, schema), [
    'default_deny_audit', 'default_deny_grant', 'default_deny_membership', 'default_deny_membership_closure', MIGRATION_TABLE, MIGRATION_LOCK_TABLE, 'default_deny_resource',
    'default_deny_resource_ancestor', 'default_deny_resource_move', 'documents', 'kysely_migration', 'kysely_migration_lock'
  ].sort())
  t.notOk(await hostMigrate(hostMigrator), 'the host migrator is not confused by ours')

  await host.insertInto('default_deny_resource').values([
    { resource_type: 'folder', resource_id: 'f', owner_id: null, parent_type: 'project', parent_id: 'p' },
    { resource_type: 'document', resource_id: 'd', owner_id: 'olga', parent_type: 'folder', parent_id: 'f' }
  ]).execute()
  const chainIndex = async () => (await sql<{ def: string }>`select indexdef as def from pg_indexes
    where schemaname = ${schema} and indexname = 'default_deny_audit_prev_hash_key'`.execute(db)).rows
  t.match((await chainIndex())[0]?.def, /UNIQUE INDEX .*\(prev_hash\) WHERE \(seq > 0\)/, 'no two audit entries may name one predecessor')
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261210090000_audit_chain_links'])
  t.same(await chainIndex(), [], 'down drops the audit chain\'s link index')
  const checkIndexes = async () => (await sql<{ name: string, def: string }>`select indexname as name, indexdef as def from pg_indexes
    where schemaname = ${schema} and indexname in ('default_deny_grant_key', 'default_deny_grant_unique') order by 1`.execute(db)).rows
  const covering = await checkIndexes()
  t.same(covering.map((row) => row.name), ['default_deny_grant_key'], 'the grants\' key is a unique index, no longer a constraint of its own')
  t.match(covering[0]?.def, /UNIQUE INDEX .*\(resource_type, resource_id, principal_kind, principal_id, privilege\) INCLUDE \(starts_at, expires_at\) NULLS NOT DISTINCT/, 'the grants\' key carries the times')
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261209090000_covering_check_indexes'])
  const restored = await checkIndexes()
  t.same(restored.map((row) => row.name), ['default_deny_grant_unique'], 'down restores the unique constraint')
  t.notMatch(restored[0]?.def, /INCLUDE/, 'without the included columns')
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261208090000_stepped_moves'])
  t.notOk((await tables(db, schema)).includes('default_deny_resource_move'), 'down drops the record of moves in steps')
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261207090000_resource_hierarchy'])
  t.notOk((await tables(db, schema)).includes('default_deny_resource_ancestor'), 'down drops the closure')
  t.same(await host.selectFrom('default_deny_resource').select(['resource_type', 'resource_id', 'owner_id']).execute(),
    [{ resource_type: 'document', resource_id: 'd', owner_id: 'olga' }], 'down keeps owners and drops rows that only held a parent')
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261206120000_membership_closure_delta'])
  const indexes = await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = ${schema} and indexname = 'default_deny_membership_closure_group_idx'`.execute(db)
  t.same(indexes.rows, [], 'down drops the group index of the closure')
  await db.withSchema(schema).insertInto('default_deny_membership').values([
    { group_id: 'b', member_kind: 'group', member_id: 'a' }, { group_id: 'a', member_kind: 'user', member_id: 'u' }
  ]).execute()
  t.same((await db.withSchema(schema).selectFrom('default_deny_membership_closure').select(['member_id', 'group_id', 'distance']).orderBy('member_id').orderBy('group_id').execute()),
    [{ member_id: 'a', group_id: 'b', distance: 1 }, { member_id: 'u', group_id: 'a', distance: 1 }, { member_id: 'u', group_id: 'b', distance: 2 }],
    'the first closure function is back, and keeps the closure')
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261204090000_change_notify'])
  const functions = await sql<{ name: string }>`select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = ${schema} and p.proname like 'default_deny_notify_%'`.execute(db)
  t.same(functions.rows, [], 'down drops the notifying functions and their triggers')
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261203090000_group_membership'])
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261202120000_resource_owner_idx'])
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261129120000_grant_starts_at'])
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261125080000_create_audit'])
  t.same(await runMigrations(db, { schema, direction: 'down' }), ['20261125070000_create_grants'])
  t.notOk((await tables(db, schema)).some((name) => name.startsWith('default_deny_') && !name.includes('migration')))
  t.ok((await tables(db, schema)).includes('documents'), 'host tables untouched')
  t.same(await runMigrations(db, { schema }), ALL, 'up again after down')
})

t.test('constraints: unique grants (type-level too), anonymous shape, empty ids', async (t) => {
  const { db, schema } = await testDatabase(t)
  await runMigrations(db, { schema })
  const grants = db.withSchema(schema).insertInto('default_deny_grant')
  const row = { principal_kind: 'user', principal_id: 'alice', resource_type: 'document', resource_id: null, privilege: 'read' }
  await grants.values(row).execute()
  await t.rejects(grants.values(row).execute(), /unique|duplicate/i, 'NULLS NOT DISTINCT keeps type-level grants unique')
  await t.rejects(grants.values({ ...row, principal_kind: 'anonymous', principal_id: 'x' }).execute(), /check/i)
  await t.rejects(grants.values({ ...row, principal_kind: 'user', principal_id: '' }).execute(), /check/i)
  await t.rejects(grants.values({ ...row, principal_kind: 'robot' }).execute(), /check/i)
  await t.rejects(grants.values({ ...row, resource_id: '' }).execute(), /check/i)
  const count = await db.withSchema(schema).selectFrom('default_deny_grant').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  t.equal(count.n, 1)
})

t.test('constraints: memberships are unique, never of the group itself, never empty', async (t) => {
  const { db, schema } = await testDatabase(t)
  await runMigrations(db, { schema })
  const members = db.withSchema(schema).insertInto('default_deny_membership')
  const row = { group_id: 'staff', member_kind: 'group', member_id: 'editors' }
  await members.values(row).execute()
  await t.rejects(members.values(row).execute(), /unique|duplicate/i)
  await t.rejects(members.values({ ...row, member_id: 'staff' }).execute(), /check/i, 'a group is not its own member')
  await t.rejects(members.values({ ...row, member_kind: 'anonymous' }).execute(), /check/i)
  await t.rejects(members.values({ ...row, member_id: '' }).execute(), /check/i)
  await t.rejects(members.values({ ...row, group_id: '' }).execute(), /check/i)
  await members.values({ ...row, member_kind: 'user' }).execute()
  const count = await db.withSchema(schema).selectFrom('default_deny_membership').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
  t.equal(count.n, 2, 'a user and a group of the same id are different members')
})

t.test('the migrate command applies and reverts on the configured database', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  const schema = `dd_cli_${process.pid}`
  let dir: string | undefined
  if (!usingPostgres) {
    dir = await mkdtemp(join(tmpdir(), 'dd-migrate-'))
    env.PGLITE_DIR = dir
    t.teardown(() => rm(dir as string, { recursive: true, force: true }))
  } else {
    const { db } = await testDatabase(t)
    t.teardown(async () => { await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db) })
  }
  // The tool's own entry point, in this process (test/cli-helper.ts).
  const cli = async (...args: string[]) => await runCli(['migrate', ...args, '--schema', schema], env)
  t.equal((await cli('up')).stdout.trim(), `applied: ${ALL.join(', ')}`)
  t.equal((await cli('up')).stdout.trim(), 'nothing to do')
  t.equal((await cli('down')).stdout.trim(), 'reverted: 20261210090000_audit_chain_links')
  t.match(await cli('sideways'), { code: 2, stderr: /unknown command/ })
})
