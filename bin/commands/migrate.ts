// migrate up|down|status: the plugin's own migrations, without the plugin.
import type { Command } from 'commander'
import { print, withDatabase } from './context.js'

const store = async () => await import('../../lib/store/migrate.js')

export function migrateCommands (program: Command): void {
  const migrate = program.command('migrate')
    .summary("apply, revert or show the plugin's migrations")
    .description("The plugin's migrations, in their own tables (default_deny_migration), in --schema. Without a subcommand it only shows this help: it never changes a schema by default.")
    .addHelpText('after', `
Examples:
  fastify-default-deny migrate up --schema authz
  fastify-default-deny migrate status --json
  fastify-default-deny migrate down --schema authz`)

  migrate.command('up')
    .description('Apply every pending migration.')
    .action(async (_opts: unknown, command: Command) => {
      await withDatabase(command, async (db, schema) => {
        const ran = await (await store()).runMigrations(db, { schema })
        print(command, ran.length === 0 ? 'nothing to do' : `applied: ${ran.join(', ')}`, { applied: ran })
      })
    })

  migrate.command('down')
    .description('Revert the last applied migration.')
    .action(async (_opts: unknown, command: Command) => {
      await withDatabase(command, async (db, schema) => {
        const ran = await (await store()).runMigrations(db, { schema, direction: 'down' })
        print(command, ran.length === 0 ? 'nothing to do' : `reverted: ${ran.join(', ')}`, { reverted: ran })
      })
    })

  migrate.command('status')
    .description('Every migration, applied (when) or pending. Exits 0 either way: read "pending" in --json.')
    .action(async (_opts: unknown, command: Command) => {
      await withDatabase(command, async (db, schema) => {
        const all = await (await store()).migrationStatus(db, { schema })
        const pending = all.filter((m) => m.executedAt === null).map((m) => m.name)
        print(command, [
          ...all.map((m) => `${m.executedAt === null ? 'pending' : `applied ${m.executedAt.toISOString()}`}  ${m.name}`),
          pending.length === 0 ? 'up to date' : `${pending.length} pending`
        ], { schema, migrations: all, pending })
      })
    })
}
