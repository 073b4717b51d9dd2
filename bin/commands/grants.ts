// grant, revoke, list, explain: one grant at a time, and what a resource or a
// principal holds.
import type { Command } from 'commander'
import type { Explanation, Grant, Privilege } from '../../fastify-plugin.js'
import {
  audited, collect, granteeText, parseGrantee, parseInstant, parsePrincipal, parseTarget, print, targetText,
  UsageError, withPermissions
} from './context.js'

interface WriteOptions { actor?: string, reason?: string, typeLevel?: boolean }

const when = (date: Date | null) => date === null ? null : date.toISOString()

/** One grant on one line, for people. */
export function grantLine (grant: Grant): string {
  const parts = [granteeText(grant.grantee), grant.privilege, grant.id === null ? `${grant.resource} (type-level)` : `${grant.resource}/${grant.id}`]
  if (grant.startsAt !== null) parts.push(`from ${when(grant.startsAt)}`)
  if (grant.expiresAt !== null) parts.push(`until ${when(grant.expiresAt)}`)
  if (grant.grantedBy !== null) parts.push(`by ${grant.grantedBy}`)
  return parts.join('  ')
}

/** A privilege and every reason it is held, as explain gives them, on one line. */
export function privilegeLine ({ privilege, via }: Explanation['privileges'][number]): string {
  return `${privilege}: ${via.map((r) => [r.source, r.grantee === undefined ? '' : granteeText(r.grantee), r.typeLevel ? '(type-level)' : '', r.via === undefined || r.via.length === 0 ? '' : `via ${r.via.join(' > ')}`,
    r.ancestor === undefined ? '' : `on ancestor ${r.ancestor.resource}:${r.ancestor.id}`]
    .filter((s) => s !== '').join(' ')).join('; ')}`
}

const TARGET_HELP = `
The grantee is user:ID, group:ID or anonymous. An id addresses one resource;
--type-level (instead of an id) addresses every resource of the type.`

function grantCommand (program: Command): void {
  audited(program.command('grant')
    .summary('grant a privilege on a resource')
    .description('Grant a privilege on one resource (or every resource of a type) to a user, a group or anonymous. Idempotent.')
    .argument('<grantee>', 'user:ID, group:ID or anonymous')
    .argument('<privilege>', 'a configured privilege, e.g. read')
    .argument('<resource>', 'the resource type, e.g. document')
    .argument('[id]', 'the resource id')
    .option('--type-level', 'grant on every resource of the type (instead of an id)')
    .option('--expires <instant>', 'the grant stops counting then (ISO 8601)')
    .option('--starts <instant>', 'the grant counts only from then (ISO 8601)')
    .addHelpText('after', `${TARGET_HELP}

Example:
  fastify-default-deny grant user:alice read document 42 --expires 2027-01-31 --actor ops`))
    .action(async (granteeArg: string, privilege: string, resource: string, id: string | undefined, opts: WriteOptions & { expires?: string, starts?: string }, command: Command) => {
      const grantee = parseGrantee(granteeArg)
      const target = parseTarget(resource, id, opts.typeLevel)
      const expiresAt = opts.expires === undefined ? null : parseInstant(opts.expires, '--expires')
      const startsAt = opts.starts === undefined ? null : parseInstant(opts.starts, '--starts')
      await withPermissions(command, async ({ permissions }) => {
        const { created, changed, revision } = await permissions.grant(
          { ...target, grantee, privilege: privilege as Privilege, expiresAt, startsAt, grantedBy: opts.actor ?? null },
          { actor: opts.actor ?? null, reason: opts.reason ?? null })
        const what = `${privilege} on ${targetText(target)} to ${granteeText(grantee)}`
        const said = created ? `granted ${what}` : changed ? `already granted: ${what} (schedule changed)` : `already granted: ${what} (unchanged)`
        print(command, said, {
          created, changed, grantee, privilege, ...target, expiresAt: when(expiresAt), startsAt: when(startsAt), revision
        })
      })
    })
}

function revokeCommand (program: Command): void {
  audited(program.command('revoke')
    .summary('revoke a privilege on a resource')
    .description('Take a privilege a grantee holds explicitly on one resource (or a type). Exits 0 whether or not it was held.')
    .argument('<grantee>', 'user:ID, group:ID or anonymous')
    .argument('<privilege>', 'a configured privilege')
    .argument('<resource>', 'the resource type')
    .argument('[id]', 'the resource id')
    .option('--type-level', 'revoke the type-level grant (instead of an id)')
    .addHelpText('after', `${TARGET_HELP}

Example:
  fastify-default-deny revoke group:staff edit document 42 --actor ops --reason "project over"`))
    .action(async (granteeArg: string, privilege: string, resource: string, id: string | undefined, opts: WriteOptions, command: Command) => {
      const grantee = parseGrantee(granteeArg)
      const target = parseTarget(resource, id, opts.typeLevel)
      await withPermissions(command, async ({ permissions }) => {
        const { removed, revision } = await permissions.revoke({ ...target, grantee, privilege: privilege as Privilege }, { actor: opts.actor ?? null, reason: opts.reason ?? null })
        const what = `${privilege} on ${targetText(target)} from ${granteeText(grantee)}`
        print(command, removed ? `revoked ${what}` : `nothing to revoke: ${granteeText(grantee)} does not hold ${privilege} on ${targetText(target)}`, {
          removed, grantee, privilege, ...target, revision
        })
      })
    })
}

function listCommand (program: Command): void {
  program.command('list')
    .summary("list a resource's grants, or a grantee's")
    .description("List the grants stored on one resource (with its owner) or on a type (--type-level); or, with --grantee, every grant a user, group or anonymous holds directly (not through groups), optionally of one resource type. Expired grants not yet purged are listed too.")
    .argument('[resource]', 'the resource type')
    .argument('[id]', 'the resource id')
    .option('--type-level', "the type's own grants (instead of an id)")
    .option('--grantee <grantee>', "a grantee's grants instead: user:ID, group:ID or anonymous")
    .addHelpText('after', `
Examples:
  fastify-default-deny list document 42
  fastify-default-deny list --grantee user:alice --json
  fastify-default-deny list document --grantee group:staff`)
    .action(async (resource: string | undefined, id: string | undefined, opts: { typeLevel?: boolean, grantee?: string }, command: Command) => {
      if (opts.grantee !== undefined) {
        if (id !== undefined || opts.typeLevel === true) throw new UsageError('with --grantee, give at most a resource type')
        const grantee = parseGrantee(opts.grantee, '--grantee')
        await withPermissions(command, async ({ permissions }) => {
          const grants: Grant[] = []
          let after: string | undefined
          for (;;) {
            const page = await permissions.scanGrants({ grantee, ...(resource === undefined ? {} : { resource }), ...(after === undefined ? {} : { after }) })
            grants.push(...page.grants)
            if (page.next === null) break
            after = page.next
          }
          print(command, grants.length === 0 ? `${granteeText(grantee)} holds no grant` : grants.map(grantLine), { grantee, grants })
        })
        return
      }
      if (resource === undefined) throw new UsageError('give a resource (and an id or --type-level), or --grantee')
      const target = parseTarget(resource, id, opts.typeLevel)
      await withPermissions(command, async ({ permissions }) => {
        const grants = await permissions.listGrants(target)
        const owner = target.id === null ? null : await permissions.getOwner({ resource: target.resource, id: target.id })
        const lines = [...(owner === null ? [] : [`owner: ${owner}`]), ...(grants.length === 0 ? [`no grant on ${targetText(target)}`] : grants.map(grantLine))]
        print(command, lines, { ...target, owner, grants })
      })
    })
}

function explainCommand (program: Command): void {
  program.command('explain')
    .summary('why a principal may or may not use a resource')
    .description('What a principal can do on a resource and why (its grants, groups, ownership); with --privilege, the decision. Exits 0 for allow and deny alike: read "decision" in --json.')
    .argument('<principal>', 'user:ID or anonymous')
    .argument('<resource>', 'the resource type')
    .argument('[id]', 'the resource id')
    .option('--type-level', 'ask about the type (instead of an id)')
    .option('--privilege <privilege>', 'decide this privilege')
    .option('--group <id>', "a group the principal's token would carry (repeatable)", collect, [])
    .addHelpText('after', `
Example:
  fastify-default-deny explain user:bob document welcome --privilege edit --group staff`)
    .action(async (principalArg: string, resource: string, id: string | undefined, opts: { typeLevel?: boolean, privilege?: string, group: string[] }, command: Command) => {
      const principal = parsePrincipal(principalArg, opts.group)
      const target = parseTarget(resource, id, opts.typeLevel)
      await withPermissions(command, async ({ permissions }) => {
        const explanation = await permissions.explain(principal, { ...target, ...(opts.privilege === undefined ? {} : { privilege: opts.privilege as Privilege }) })
        const lines = [explanation.summary, ...explanation.privileges.map((held) => `  ${privilegeLine(held)}`)]
        print(command, lines, explanation)
      })
    })
}

export function grantCommands (program: Command): void {
  grantCommand(program)
  revokeCommand(program)
  listCommand(program)
  explainCommand(program)
}
