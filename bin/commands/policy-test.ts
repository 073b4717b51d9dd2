// test: policy tests. Fixtures (YAML or JSON) of options, a world and what
// the plugin must decide in it, each run on a fresh in-memory embedded
// database through the plugin's real decision code (lib/testing/). No
// database of the operator's is opened.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import type { AppBuilder, PolicyTestRun, Reporter } from '../../lib/testing/index.js'
import { reasonOf } from '../../lib/error-reason.js'
import { EXIT, globals, parseCount, UsageError } from './context.js'
import { io } from './io.js'

/** `--app`: a module whose default export (or `build`) builds the app on the database it is given. */
async function loadBuilder (file: string): Promise<AppBuilder> {
  let loaded: Record<string, unknown>
  try {
    loaded = await import(pathToFileURL(resolve(file)).href) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`--app ${file}: ${reasonOf(err)}`)
  }
  const build = loaded.default ?? loaded.build
  // An app already built has a database of its own, which the fixtures' worlds must never be written to.
  if (typeof build !== 'function' || 'permissions' in build) {
    throw new UsageError(`--app ${file}: its default export must be a function that builds your app on the database it is given: export default async ({ db }) => buildApp({ db })`)
  }
  return build as AppBuilder
}

// The run as one JSON document: errors by what names them, not as Error objects.
const asJson = (run: PolicyTestRun) => ({
  ...run,
  fixtures: run.fixtures.map(({ error, ...fixture }) => ({
    ...fixture,
    ...(error === undefined ? {} : { error: { message: error.message, ...('path' in error ? { path: error.path, rule: error.rule, ...(error.line === undefined ? {} : { line: error.line }) } : {}) } })
  }))
})

export function policyTestCommand (program: Command): void {
  program.command('test')
    .summary('run policy tests (fixtures of a world and what the plugin must decide in it)')
    .description('Runs policy-test fixtures (YAML or JSON; see the README, "Policy tests") on the plugin\'s real decision code, each in a fresh in-memory embedded database: every failed assertion is printed with explain\'s account of it. Exits 0 when every assertion holds, 6 when one fails (or, with --app, a route is not covered), 2 when a fixture is invalid. DATABASE_URL, --schema and --config are not used.')
    .argument('<files...>', 'fixture files or globs (quote globs: "policies/**/*.yaml")')
    .option('--reporter <name>', 'text, tap or junit', 'text')
    .option('--app <module>', 'a module whose default export builds your app on the database it is given (async ({ db }) => app): route assertions and route coverage')
    .option('--concurrency <n>', 'fixtures run at once (default: up to 4)', parseCount('--concurrency', 1, 64))
    .addHelpText('after', `
Examples:
  fastify-default-deny test "policies/*.yaml"
  fastify-default-deny test policies/documents.yaml --app ./dist/app.js --reporter junit > policy-tests.xml`)
    .action(async (files: string[], opts: { reporter: string, app?: string, concurrency?: number }, command: Command) => {
      const { AppError, REPORTERS, formatReport, runPolicyTests } = await import('../../lib/testing/index.js')
      if (!(REPORTERS as readonly string[]).includes(opts.reporter)) throw new UsageError(`--reporter '${opts.reporter}': expected ${REPORTERS.join(', ')}`)
      const app = opts.app === undefined ? undefined : await loadBuilder(opts.app)
      let run: PolicyTestRun
      try {
        run = await runPolicyTests(files, { app, concurrency: opts.concurrency })
      } catch (err) {
        if (/^no fixture file matches /.test((err as Error).message)) throw new UsageError((err as Error).message)
        if (err instanceof AppError) throw new UsageError(`--app ${opts.app as string}: ${err.message}`)
        throw err
      }
      io().stdout.write(globals(command).json === true ? `${JSON.stringify(asJson(run), null, 2)}\n` : formatReport(run, opts.reporter as Reporter))
      if (run.invalid > 0) io().exitCode = EXIT.USAGE
      else if (!run.ok) io().exitCode = EXIT.TESTS_FAILED
    })
}
