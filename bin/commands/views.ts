// browse, access: the questions that span a resource type (which resources
// are known, what a principal may use and through what), the service API's
// browse() and access(). The tool is the operator's, so it sees every
// resource, as a superuser does in the grant API.
import type { Command } from 'commander'
import type { Principal, Privilege } from '../../fastify-plugin.js'
import { privilegeLine } from './grants.js'
import { collect, parseCount, parsePrincipal, print, UsageError, withPermissions } from './context.js'

const PAGE_HELP = '--after takes the next of the previous page (printed last as "more: --after ID").'

function browseCommand (program: Command): void {
  program.command('browse')
    .summary('list the known resources of a type, a page at a time')
    .description('The known resources of a type (with an owner, a parent or a grant), by id, each with its owner and its number of live explicit grants. Every one of them: the tool sees what a superuser sees.')
    .argument('<resource>', 'the resource type, e.g. document')
    .option('--prefix <text>', 'only ids that start with it, as plain text (% and _ are themselves)')
    .option('--after <id>', 'the next of the previous page')
    .option('--limit <n>', 'resources per page (1-100, default 25)', parseCount('--limit', 1, 100))
    .addHelpText('after', `
${PAGE_HELP}

Example:
  fastify-default-deny browse document --prefix q3_ --limit 50`)
    .action(async (resource: string, opts: { prefix?: string, after?: string, limit?: number }, command: Command) => {
      const prefix = opts.prefix ?? ''
      await withPermissions(command, async ({ permissions }) => {
        const page = await permissions.browse({ resource, prefix, after: opts.after ?? null, limit: opts.limit ?? 25 })
        const lines = page.resources.length === 0
          ? [`no known ${resource}${prefix === '' ? '' : ` whose id starts with ${JSON.stringify(prefix)}`}${opts.after === undefined ? '' : ' after that id'}`]
          : page.resources.map((r) => `${r.id}  owner: ${r.owner ?? '(none)'}  grants: ${r.grants}`)
        if (page.next !== null) lines.push(`more: --after ${page.next}`)
        print(command, lines, { resource, prefix, ...page })
      })
    })
}

/** `user:ID` or `anonymous` (with token groups), or `group:ID`: the group's members, through it. */
function parseSubject (text: string, groups: string[]): { subject: Principal | { kind: 'group', id: string }, shown: { kind: string, id: string | null, groups: string[] } } {
  if (text.startsWith('group:')) {
    if (groups.length > 0) throw new UsageError('--group is for a user: a group\'s access is what its members get through it')
    const id = text.slice('group:'.length)
    if (id === '') throw new UsageError(`principal '${text}': expected 'user:ID', 'group:ID' or 'anonymous'`)
    return { subject: { kind: 'group', id }, shown: { kind: 'group', id, groups: [] } }
  }
  let principal: Principal
  try {
    principal = parsePrincipal(text, groups)
  } catch {
    throw new UsageError(`principal '${text}': expected 'user:ID', 'group:ID' or 'anonymous'`)
  }
  return { subject: principal, shown: { kind: principal.kind, id: principal.id, groups } }
}

function accessCommand (program: Command): void {
  program.command('access')
    .summary('what a principal may use of a type, and through what')
    .description('Every resource of a type a user, anonymous or a group\'s members may use (holds --privilege on; default the first configured privilege), each with every privilege held there and through what, as explain says (a direct grant, a group, ownership, an ancestor, a type-level grant). All of it: the tool sees what a superuser sees.')
    .argument('<principal>', 'user:ID, group:ID or anonymous')
    .argument('<resource>', 'the resource type')
    .option('--privilege <privilege>', 'what counts as use (default: the first configured privilege)')
    .option('--group <id>', "a group a user's token would carry (repeatable)", collect, [])
    .option('--after <id>', 'the next of the previous page')
    .option('--limit <n>', 'resources per page (1-100, default 25)', parseCount('--limit', 1, 100))
    .addHelpText('after', `
${PAGE_HELP}

Examples:
  fastify-default-deny access user:carol document
  fastify-default-deny access group:staff document --privilege edit --json`)
    .action(async (principalArg: string, resource: string, opts: { privilege?: string, group: string[], after?: string, limit?: number }, command: Command) => {
      const { subject, shown } = parseSubject(principalArg, opts.group)
      await withPermissions(command, async ({ permissions }) => {
        const page = await permissions.access(subject, {
          resource, ...(opts.privilege === undefined ? {} : { privilege: opts.privilege as Privilege }), after: opts.after ?? null, limit: opts.limit ?? 25
        })
        const lines: string[] = []
        if (page.all) lines.push(`every ${resource} is usable (a type-level grant or superuser status); the known ones:`)
        if (page.resources.length === 0 && !page.all) lines.push(`${principalArg} may use no ${resource}${opts.after === undefined ? '' : ' after that id'}`)
        for (const item of page.resources) lines.push(item.id, ...item.privileges.map((held) => `  ${privilegeLine(held)}`))
        if (page.next !== null) lines.push(`more: --after ${page.next}`)
        print(command, lines, { resource, principal: shown, ...page })
      })
    })
}

export function viewCommands (program: Command): void {
  browseCommand(program)
  accessCommand(program)
}
