// Another session dropping its schemas while the plugin migrates its own (a
// host dropping tenant schemas, or test files beside each other) must not
// make the migration fail, and the migration must not read other schemas.
import t from 'tap'
import { sql } from 'kysely'
import { runMigrations, migrationStatus } from '../../lib/store/migrate.js'
import { postgresKysely } from '../../lib/store/postgres.js'
import { testDatabase, usingPostgres } from '../helper.js'

const needsPostgres = usingPostgres ? false : 'needs a second session: the embedded database has one connection'

t.test('migrations succeed while another session creates and drops schemas', { skip: needsPostgres }, async (t) => {
  const { db, schema } = await testDatabase(t)
  const other = postgresKysely(process.env.DATABASE_URL as string, { max: 1 })
  t.teardown(async () => { await other.destroy() })
  let churning = true
  const churn = (async () => {
    for (let n = 0; churning; n++) {
      const name = `${schema}_churn_${n}`
      await sql`create schema ${sql.id(name)}`.execute(other)
      await sql`create table ${sql.id(name, 'rows')} (id int)`.execute(other)
      await sql`drop schema ${sql.id(name)} cascade`.execute(other)
    }
  })()
  const failures: string[] = []
  try {
    for (let i = 0; i < 12; i++) {
      const mine = `${schema}_${i}`
      try {
        await runMigrations(db, { schema: mine })
        await runMigrations(db, { schema: mine })
        const status = await migrationStatus(db, { schema: mine })
        if (status.some((m) => m.executedAt === null)) failures.push(`${mine}: a migration is pending`)
      } catch (err) {
        failures.push(`${mine}: ${(err as Error).message}`)
      } finally {
        await sql`drop schema if exists ${sql.id(mine)} cascade`.execute(db)
      }
    }
  } finally {
    churning = false
    await churn
  }
  t.same(failures, [])
})

t.test("what the migrator reads about tables is its own schema's", async (t) => {
  const { db, schema } = await testDatabase(t)
  const elsewhere = `${schema}_elsewhere`
  await sql`create schema ${sql.id(elsewhere)}`.execute(db)
  t.teardown(async () => { await sql`drop schema if exists ${sql.id(elsewhere)} cascade`.execute(db) })
  // A table named like the plugin's migration table in another schema must
  // not make the migrator think its own schema is migrated.
  await sql`create table ${sql.id(elsewhere, 'default_deny_migration')} (name varchar(255) primary key, timestamp varchar(255) not null)`.execute(db)
  const ran = await runMigrations(db, { schema })
  t.ok(ran.length > 0, 'every migration ran in the new schema')
  t.same((await migrationStatus(db, { schema })).filter((m) => m.executedAt === null), [])
  t.same(await runMigrations(db, { schema }), [], 'and none runs twice')
})
