// members (stored, nested groups) and purge-expired.
import type { Command } from 'commander'
import { audited, collect, granteeText, parseCount, parseMember, parsePrincipal, print, withPermissions } from './context.js'

interface WriteOptions { actor?: string, reason?: string }

function membersCommand (program: Command): void {
  const members = program.command('members')
    .summary("change and list a stored group's members")
    .description('Stored groups: a user or a group is a member of a group, and every member holds what the group holds (nested up to groupDepth levels).')
    .addHelpText('after', `
Examples:
  fastify-default-deny members add staff user:alice --actor ops
  fastify-default-deny members add staff group:editors
  fastify-default-deny members list staff --json
  fastify-default-deny members of user:alice`)

  audited(members.command('add')
    .description('Make a user or a group a member of a group. Idempotent.')
    .argument('<group>', 'the group id')
    .argument('<member>', 'user:ID or group:ID'))
    .action(async (group: string, memberArg: string, opts: WriteOptions, command: Command) => {
      const member = parseMember(memberArg)
      await withPermissions(command, async ({ permissions }) => {
        const { added, revision } = await permissions.addMember({ group, member }, { actor: opts.actor ?? null, reason: opts.reason ?? null })
        print(command, added ? `added ${granteeText(member)} to ${group}` : `${granteeText(member)} already is a member of ${group}`, { added, group, member, revision })
      })
    })

  audited(members.command('remove')
    .description('Take a user or a group out of a group. Exits 0 whether or not it was a member.')
    .argument('<group>', 'the group id')
    .argument('<member>', 'user:ID or group:ID'))
    .action(async (group: string, memberArg: string, opts: WriteOptions, command: Command) => {
      const member = parseMember(memberArg)
      await withPermissions(command, async ({ permissions }) => {
        const { removed, revision } = await permissions.removeMember({ group, member }, { actor: opts.actor ?? null, reason: opts.reason ?? null })
        print(command, removed ? `removed ${granteeText(member)} from ${group}` : `${granteeText(member)} was not a member of ${group}`, { removed, group, member, revision })
      })
    })

  members.command('list')
    .description("A group's stored members (not those of its member groups).")
    .argument('<group>', 'the group id')
    .action(async (group: string, _opts: unknown, command: Command) => {
      await withPermissions(command, async ({ permissions }) => {
        const list = await permissions.listMembers(group)
        print(command, list.length === 0
          ? `${group} has no stored member`
          : list.map((m) => `${granteeText(m.member)}  added ${m.addedAt.toISOString()}${m.addedBy === null ? '' : ` by ${m.addedBy}`}`), { group, members: list })
      })
    })

  members.command('of')
    .description('Every group a principal is in (stored memberships, nested), and the path to each.')
    .argument('<principal>', 'user:ID or anonymous')
    .option('--group <id>', "a group the principal's token would carry (repeatable)", collect, [])
    .action(async (principalArg: string, opts: { group: string[] }, command: Command) => {
      const principal = parsePrincipal(principalArg, opts.group)
      await withPermissions(command, async ({ permissions }) => {
        const groups = await permissions.groupsOf(principal)
        print(command, groups.length === 0
          ? `${principalArg} is in no group`
          : groups.map((g) => `${g.group}${g.via.length === 0 ? '' : `  via ${g.via.join(' > ')}`}  (${g.source})`), { principal: principalArg, groups })
      })
    })
}

function purgeCommand (program: Command): void {
  audited(program.command('purge-expired')
    .summary('delete expired grants')
    .description('Delete the grants that have expired, in batches (each its own short transaction), recorded as one audit entry. Expired grants never count; this only keeps the table small.')
    .option('--batch-size <n>', 'grants deleted per transaction (1-10000)', parseCount('--batch-size', 1, 10_000), 1000)
    .addHelpText('after', `
Example (a nightly cron job):
  fastify-default-deny purge-expired --actor cron --json`))
    .action(async (opts: WriteOptions & { batchSize: number }, command: Command) => {
      await withPermissions(command, async ({ permissions }) => {
        const { purged, revision } = await permissions.purgeExpired({ batchSize: opts.batchSize }, { actor: opts.actor ?? null, reason: opts.reason ?? null })
        print(command, `purged ${purged} expired grant${purged === 1 ? '' : 's'}`, { purged, revision })
      })
    })
}

export function memberCommands (program: Command): void {
  membersCommand(program)
  purgeCommand(program)
}
