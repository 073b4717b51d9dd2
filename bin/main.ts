// fastify-default-deny's command-line tool for operators. Every command is a
// thin adapter over the service API; the exit codes are in EXIT. bin/cli.ts
// runs it as the executable; the tests run it in process.
import { Command, CommanderError } from 'commander'
import { auditCommands } from './commands/audit.js'
import { checkCommand } from './commands/check.js'
import { EXIT, failure, openedDatabase } from './commands/context.js'
import { grantCommands } from './commands/grants.js'
import { inCommand, io, processIo, withIo, type Output } from './commands/io.js'
import { memberCommands } from './commands/members.js'
import { migrateCommands } from './commands/migrate.js'
import { policyTestCommand } from './commands/policy-test.js'
import { transferCommands } from './commands/transfer.js'
import { treeCommands } from './commands/tree.js'
import { viewCommands } from './commands/views.js'
import { visible } from './commands/terminal.js'
import { packageVersion } from './commands/version.js'

const HELP = `
Database: DATABASE_URL (PostgreSQL), or the config module's connectionString,
or else the embedded PGlite database in PGLITE_DIR (default .data/pglite), which
only 'migrate up' creates. Every command names the database it opened.

Exit codes:
  0  done
  1  failure: the database is unreachable, a table is missing, anything unexpected
  2  usage: unknown command or option, a missing or malformed argument, a bad config module,
     an invalid policy-test fixture
  3  refused: the service refused the input (invalid grant, unknown privilege, ineligible
     grantee), an import had a bad row (nothing was imported), or migrate down would
     drop data and was not confirmed (nothing was dropped)
  4  check: the security self-check found an error that acknowledge does not name
  5  verify-audit: the audit trail's hash chain is broken (the first bad entry is named)
  6  test: a policy-test assertion failed, or (--app) a route is not covered`

// A terminal's width, or Commander's own default of 80 anywhere else.
const helpWidth = (stream: Output): number => stream.isTTY === true && stream.columns !== undefined ? stream.columns : 80

function program (): Command {
  const cli = new Command('fastify-default-deny')
    .description('Manage fastify-default-deny grants, groups and migrations from the command line.')
    .option('--schema <name>', "the PostgreSQL schema of the plugin's tables (default: the config's, or public)")
    .option('--config <module>', "a module whose default export is the plugin's options (privileges, implies, groupDepth…)")
    .option('--json', 'print the result as one JSON document')
    .version(packageVersion(), '-V, --version', "print the tool's version")
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    // Commander writes its help and its errors itself: to the command's streams, like everything else.
    .configureOutput({
      writeOut: (text) => io().stdout.write(text),
      writeErr: (text) => io().stderr.write(text),
      outputError: (text, write) => write(text),
      getOutHelpWidth: () => helpWidth(io().stdout),
      getErrHelpWidth: () => helpWidth(io().stderr)
    })
    .addHelpText('after', HELP)
  migrateCommands(cli)
  grantCommands(cli)
  memberCommands(cli)
  treeCommands(cli)
  viewCommands(cli)
  transferCommands(cli)
  auditCommands(cli)
  checkCommand(cli)
  policyTestCommand(cli)
  return cli
}

/**
 * Runs the tool on `argv` (as `process.argv`: node, the script, then the
 * arguments) in the current context (bin/commands/io.ts), or in a fresh one
 * on this process, and returns its exit code; it never exits the process.
 */
export async function main (argv: string[]): Promise<number> {
  if (!inCommand()) return await withIo(processIo(), async () => await main(argv))
  const cli = program()
  try {
    await cli.parseAsync(argv)
    // A command that answered but must not exit 0 (check found errors) has set it.
    return io().exitCode ?? EXIT.OK
  } catch (err) {
    const { code, message, errorCode, details } = failure(err)
    // Commander has printed its own errors and the help already.
    if (!(err instanceof CommanderError)) io().stderr.write(`fastify-default-deny: ${message.split('\n').map(visible).join('\n')}\n`)
    if (code !== EXIT.OK && (cli.opts().json === true || argv.includes('--json'))) {
      const database = openedDatabase()
      io().stdout.write(`${JSON.stringify({
        ...(database === undefined ? {} : { database }),
        error: { exitCode: code, code: errorCode ?? null, message, ...(details === undefined ? {} : { details }) }
      }, null, 2)}\n`)
    }
    return code
  }
}
