// parent set / parent show / children: where a resource sits in its tree
// (the `hierarchy` option of the config). The refusals are the service's.
import type { Command } from 'commander'
import type { ResourceInstance } from '../../fastify-plugin.js'
import { audited, parseCount, print, UsageError, withPermissions } from './context.js'

/** `type:id`, split at the first colon (a type has none; an id may). */
export function parseInstance (text: string, what = 'resource'): ResourceInstance {
  const colon = text.indexOf(':')
  if (colon < 1 || colon === text.length - 1) throw new UsageError(`${what} '${text}': expected TYPE:ID, e.g. document:d9`)
  return { resource: text.slice(0, colon), id: text.slice(colon + 1) }
}

export const instanceText = (ref: ResourceInstance): string => `${ref.resource}:${ref.id}`

function parentCommand (program: Command): void {
  const parent = program.command('parent')
    .summary("set, clear or show a resource's parent")
    .description('Resource hierarchies: a grant on a resource (and its ownership) counts on everything below it. The config\'s hierarchy option says which types may be under which.')
    .addHelpText('after', `
Examples:
  fastify-default-deny parent set document:d9 folder:f2 --actor ops
  fastify-default-deny parent set document:d9 --clear
  fastify-default-deny parent show document:d9`)

  audited(parent.command('set')
    .description('Place a resource under a parent (or move it there); --clear takes it out of its tree. One audit entry, however much moves with it.')
    .argument('<child>', 'TYPE:ID, e.g. document:d9')
    .argument('[parent]', 'TYPE:ID, e.g. folder:f2')
    .option('--clear', 'no parent any more (instead of a parent)'))
    .action(async (childArg: string, parentArg: string | undefined, opts: { clear?: boolean, actor?: string, reason?: string }, command: Command) => {
      if (opts.clear === true && parentArg !== undefined) throw new UsageError('give a parent or --clear, not both')
      if (opts.clear !== true && parentArg === undefined) throw new UsageError('give the parent (TYPE:ID), or --clear')
      const child = parseInstance(childArg, 'child')
      const to = parentArg === undefined ? null : parseInstance(parentArg, 'parent')
      await withPermissions(command, async ({ permissions }) => {
        const before = await permissions.getParent(child)
        const { revision } = await permissions.setParent(child, to, { actor: opts.actor ?? null, reason: opts.reason ?? null })
        const same = before === null ? to === null : to !== null && instanceText(before) === instanceText(to)
        const said = same
          ? `${instanceText(child)} already is ${to === null ? 'at the root' : `under ${instanceText(to)}`} (unchanged)`
          : to === null ? `${instanceText(child)} has no parent now (was ${instanceText(before as ResourceInstance)})` : `${instanceText(child)} is under ${instanceText(to)} now${before === null ? '' : ` (was ${instanceText(before)})`}`
        print(command, said, { child, parent: to, before, changed: !same, revision })
      })
    })

  parent.command('show')
    .description("A resource's ancestors, nearest first.")
    .argument('<child>', 'TYPE:ID')
    .action(async (childArg: string, _opts: unknown, command: Command) => {
      const child = parseInstance(childArg, 'child')
      await withPermissions(command, async ({ permissions }) => {
        const ancestors = await permissions.ancestors(child)
        print(command, ancestors.length === 0
          ? `${instanceText(child)} has no parent`
          : [`${instanceText(child)}`, ...ancestors.map((a) => `${'  '.repeat(a.depth)}under ${instanceText(a)}`)], { child, parent: ancestors[0] === undefined ? null : { resource: ancestors[0].resource, id: ancestors[0].id }, ancestors })
      })
    })
}

function childrenCommand (program: Command): void {
  program.command('children')
    .summary("list a resource's direct children, a page at a time")
    .description('The resources whose parent is this one, ordered by type then id.')
    .argument('<parent>', 'TYPE:ID')
    .option('--after <cursor>', 'the next of the previous page')
    .option('--limit <n>', 'children per page (1-1000, default 100)', parseCount('--limit', 1, 1000))
    .addHelpText('after', `
Example:
  fastify-default-deny children folder:f2 --limit 50`)
    .action(async (parentArg: string, opts: { after?: string, limit?: number }, command: Command) => {
      const parent = parseInstance(parentArg, 'parent')
      await withPermissions(command, async ({ permissions }) => {
        const page = await permissions.children(parent, { after: opts.after ?? null, limit: opts.limit ?? 100 })
        const lines = page.children.length === 0 ? [`${instanceText(parent)} has no child${opts.after === undefined ? '' : ' after that cursor'}`] : page.children.map(instanceText)
        if (page.next !== null) lines.push(`more: --after ${page.next}`)
        print(command, lines, { parent, ...page })
      })
    })
}

export function treeCommands (program: Command): void {
  parentCommand(program)
  childrenCommand(program)
}
