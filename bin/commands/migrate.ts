// migrate up|down|status: the plugin's own migrations, without the plugin.
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import type { DownPlan } from '../../lib/store/migrate.js'
import { globals, print, RefusedError, withDatabase } from './context.js'
import { io } from './io.js'

const AUDIT_TABLE = 'default_deny_audit'

/**
 * Data goes only with a confirmation: the flags, or on a terminal the
 * schema's name typed back (and for the audit trail, a sentence). Without
 * one, nothing is dropped and the command fails (exit 3), saying what it
 * would have dropped.
 */
async function confirm (command: Command, schema: string, plan: DownPlan, losses: string[], opts: { yes?: boolean, discardAudit?: boolean }, auditRows: number | undefined): Promise<void> {
  const needsAudit = auditRows !== undefined
  if (opts.yes === true && (!needsAudit || opts.discardAudit === true)) return
  const what = `reverting ${plan.migration} drops ${losses.join('; ')}`
  const interactive = io().stdin.isTTY && io().stderr.isTTY && globals(command).json !== true
  if (interactive) {
    const prompt = createInterface({ input: io().stdin, output: io().stderr })
    try {
      io().stderr.write(`${what}.\n`)
      const typed = await prompt.question(`Type the schema's name (${schema}) to drop them: `)
      const sure = typed.trim() === schema && (!needsAudit || (await prompt.question(
        `This destroys ${auditRows} audit entries: the record of who changed what. Type 'discard the audit trail' to go on: `)).trim() === 'discard the audit trail')
      if (sure) return
    } finally {
      prompt.close()
    }
    throw new RefusedError(`not confirmed: nothing was dropped (${what})`, { migration: plan.migration, tables: plan.tables, columns: plan.columns })
  }
  const flags = needsAudit ? '--yes --discard-audit' : '--yes'
  throw new RefusedError(`${what}; nothing was dropped: run again with ${flags} to drop ${needsAudit ? 'them, audit trail included' : 'them'}`, { migration: plan.migration, tables: plan.tables, columns: plan.columns })
}

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
    .description('Apply every pending migration (creating the embedded database if it does not exist).')
    .action(async (_opts: unknown, command: Command) => {
      // The one command that may create an embedded database.
      await withDatabase(command, async (db, schema) => {
        const ran = await (await store()).runMigrations(db, { schema })
        print(command, ran.length === 0 ? 'nothing to do' : `applied: ${ran.join(', ')}`, { applied: ran })
      }, { create: true })
    })

  migrate.command('down')
    .description('Revert the last applied migration. If that would drop rows or values, says what (tables, columns, counts) and needs --yes (or an answer at the prompt on a terminal); dropping audit entries also needs --discard-audit.')
    .option('--yes', 'drop the rows and values the migration takes with it')
    .option('--discard-audit', 'and, when it drops the audit trail, its entries too')
    .action(async (opts: { yes?: boolean, discardAudit?: boolean }, command: Command) => {
      await withDatabase(command, async (db, schema) => {
        const migrations = await store()
        const plan = await migrations.planMigrateDown(db, { schema })
        if (plan.migration === null) {
          print(command, 'nothing to do', { reverted: [] })
          return
        }
        const losses = [
          ...plan.tables.filter((t) => t.rows > 0).map((t) => `table ${schema}.${t.table} and its ${t.rows} row${t.rows === 1 ? '' : 's'}`),
          ...plan.columns.filter((c) => c.values > 0).map((c) => `column ${schema}.${c.table}.${c.column} and its ${c.values} value${c.values === 1 ? '' : 's'}`)
        ]
        const audit = plan.tables.find((t) => t.table === AUDIT_TABLE && t.rows > 0)
        if (losses.length > 0) await confirm(command, schema, plan, losses, opts, audit?.rows)
        const ran = await migrations.runMigrations(db, { schema, direction: 'down' })
        print(command, ran.length === 0 ? 'nothing to do' : `reverted: ${ran.join(', ')}${losses.length > 0 ? ` (dropped ${losses.join('; ')})` : ''}`, { reverted: ran, dropped: { tables: plan.tables, columns: plan.columns } })
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
