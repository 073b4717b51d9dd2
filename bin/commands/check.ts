// check: the plugin's security self-check (app.permissions.checkSecurity()),
// against the operator's whole app (--app) or against its options (--config)
// and the database the environment names.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import type { SecurityFinding } from '../../fastify-plugin.js'
import { reasonOf } from '../../lib/error-reason.js'
import { EXIT, print, readyForCheck, UsageError, withPermissions } from './context.js'
import { io } from './io.js'

/** The app from `--app`: its default export (or `build`), a Fastify instance or a function returning one. */
async function loadApp (file: string): Promise<FastifyInstance> {
  let loaded: Record<string, unknown>
  try {
    loaded = await import(pathToFileURL(resolve(file)).href) as Record<string, unknown>
  } catch (err) {
    throw new UsageError(`--app ${file}: ${reasonOf(err)}`)
  }
  let app = loaded.default ?? loaded.build
  if (typeof app === 'function' && !('permissions' in app)) app = await (app as () => unknown)()
  if (typeof app !== 'object' && typeof app !== 'function') throw new UsageError(`--app ${file}: its default export must build a Fastify instance`)
  return app as FastifyInstance
}

// Without --app the instance is the tool's own: its routes, @fastify/jwt and
// server say nothing about the app's, so those findings are left to --app.
const APP_ONLY = /^(?:routes-|jwt-|trust-proxy-|no-https$|grant-api-|logger-|custom-error-)/

function report (command: Command, findings: readonly SecurityFinding[]): void {
  const open = findings.filter((f) => !f.acknowledged)
  const errors = open.filter((f) => f.level === 'error').length
  const warnings = open.filter((f) => f.level === 'warning').length
  const lines = findings.flatMap((f) => [`${f.acknowledged ? 'acknowledged ' : ''}${f.level}  ${f.id}: ${f.message}`, `  hint: ${f.hint}`])
  lines.push(findings.length === 0 ? 'no findings' : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${findings.length > open.length ? `, ${findings.length - open.length} acknowledged` : ''}`)
  print(command, lines, { findings, errors, warnings })
  if (errors > 0) io().exitCode = EXIT.CHECK_FAILED
}

export function checkCommand (program: Command): void {
  program.command('check')
    .summary('run the security self-check')
    .description("The plugin's security self-check: each finding has an id, a level (error or warning), what is wrong and a hint. Exits 4 when an error is found that the options do not acknowledge, 0 otherwise. With --app it checks your whole app (routes, @fastify/jwt, server options); otherwise the plugin's options from --config, its endpoint rules and the database the environment names (the findings about routes, tokens and the server need --app).")
    .option('--app <module>', 'a module whose default export builds your app (a Fastify instance with the plugin registered, not listening), or a function returning it')
    .addHelpText('after', `
Examples:
  DATABASE_URL=postgres://authz@db/app fastify-default-deny check --config ./authz.config.js
  fastify-default-deny check --app ./dist/app.js --json`)
    .action(async (opts: { app?: string }, command: Command) => {
      if (opts.app !== undefined) {
        const app = await loadApp(opts.app)
        try {
          await readyForCheck(app, true)
          if (typeof app.permissions?.checkSecurity !== 'function') throw new UsageError(`--app ${opts.app}: the app has no fastify-default-deny registered`)
          report(command, await app.permissions.checkSecurity())
        } finally {
          await app.close()
        }
        return
      }
      await withPermissions(command, async ({ permissions }) => {
        report(command, (await permissions.checkSecurity()).filter((finding) => !APP_ONLY.test(finding.id)))
      }, { asConfigured: true })
    })
}
