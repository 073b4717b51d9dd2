// audit and verify-audit: reading the hash-chained audit trail and checking
// that no entry was edited, deleted or inserted since it was written.
import type { Command } from 'commander'
import type { AuditEntry, AuditVerification, DefaultDenyApi, GranteeRef, ResourceRef } from '../../fastify-plugin.js'
import { isSeq } from '../../lib/decision/ids.js'
import { EXIT, granteeText, parseCount, parseGrantee, parseInstant, parseTarget, print, UsageError, withPermissions } from './context.js'
import { io } from './io.js'

/** The service API's largest page. */
const PAGE = 1000

interface Filter {
  resource?: ResourceRef
  grantee?: GranteeRef
  actor?: string
  since?: Date
  before?: string
  limit: number
}

/**
 * The newest `limit` entries that pass the filter, and the `before` that
 * continues the listing (null at the end). The service API filters by
 * resource and grantee; the actor and the instant are filtered here, a page
 * at a time.
 */
async function listEntries (permissions: DefaultDenyApi, filter: Filter): Promise<{ entries: AuditEntry[], next: string | null }> {
  const { actor, since, limit } = filter
  const narrowedHere = actor !== undefined || since !== undefined
  const entries: AuditEntry[] = []
  let before = filter.before
  for (;;) {
    // Unfiltered, one more than is still wanted says whether a next page exists.
    const size = narrowedHere ? PAGE : Math.min(PAGE, limit - entries.length + 1)
    const page = await permissions.audit({
      ...(filter.resource === undefined ? {} : { resource: filter.resource }),
      ...(filter.grantee === undefined ? {} : { grantee: filter.grantee }),
      ...(before === undefined ? {} : { before }),
      limit: size
    })
    for (const entry of page) {
      // Newest first: once past --since, every later entry is older still.
      if (since !== undefined && entry.at < since) return { entries, next: null }
      if (actor !== undefined && entry.actor !== actor) continue
      if (entries.length === limit) return { entries, next: entries.at(-1)?.seq ?? null }
      entries.push(entry)
    }
    if (page.length < size) return { entries, next: null }
    before = page.at(-1)?.seq
  }
}

const list = (values: string[]): string => values.length === 0 ? '-' : values.join(',')

function change (entry: AuditEntry): string {
  // Purges before schedules were audited recorded only a count, on resource ''.
  if (entry.action === 'purge' && entry.resource === '') return `purged ${entry.before[0] ?? '0'}`
  return `${list(entry.before)} -> ${list(entry.after)}`
}

function target (entry: AuditEntry): string {
  if (entry.action === 'purge' && entry.resource === '') return '-'
  return entry.id === null ? `${entry.resource} (type-level)` : `${entry.resource}/${entry.id}`
}

/** Columns padded to their widest cell; the last one is left ragged. */
function table (rows: string[][]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  return rows.map((row) => row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd())
}

function auditCommand (program: Command): void {
  program.command('audit')
    .summary('list the audit trail, newest first')
    .description("The audit trail of every change of grants, owners and group members, newest first: on one resource (or a type's own grants with --type-level), or the whole trail. A page of --limit entries; when more match, the output says which --before continues.")
    .argument('[resource]', 'only entries on this resource type (with an id or --type-level)')
    .argument('[id]', 'the resource id')
    .option('--type-level', "the type's own entries (instead of an id)")
    .option('--grantee <grantee>', 'only entries about user:ID, group:ID or anonymous (a member, for group changes)')
    .option('--actor <id>', 'only changes made by this actor')
    .option('--since <instant>', 'only entries from this instant on (ISO 8601)')
    .option('--before <seq>', 'only entries older than this one (the next page of a listing)')
    .option('--limit <n>', 'the most entries listed (1-100000)', parseCount('--limit', 1, 100_000), 50)
    .addHelpText('after', `
--actor and --since are applied by the tool as it reads the trail (newest
first, a page at a time): --actor on a long trail reads it all, --since
stops at the first older entry.

Examples:
  fastify-default-deny audit document 42
  fastify-default-deny audit --actor ops --since 2027-01-01 --json
  fastify-default-deny audit --limit 100 --before 5120`)
    .action(async (resource: string | undefined, id: string | undefined, opts: { typeLevel?: boolean, grantee?: string, actor?: string, since?: string, before?: string, limit: number }, command: Command) => {
      if (resource === undefined && (id !== undefined || opts.typeLevel === true)) throw new UsageError('--type-level needs a resource type')
      if (opts.before !== undefined && !isSeq(opts.before)) throw new UsageError(`--before '${opts.before}': expected an entry's seq (a whole number)`)
      const filter: Filter = {
        ...(resource === undefined ? {} : { resource: parseTarget(resource, id, opts.typeLevel) }),
        ...(opts.grantee === undefined ? {} : { grantee: parseGrantee(opts.grantee, '--grantee') }),
        ...(opts.actor === undefined ? {} : { actor: opts.actor }),
        ...(opts.since === undefined ? {} : { since: parseInstant(opts.since, '--since') }),
        ...(opts.before === undefined ? {} : { before: opts.before }),
        limit: opts.limit
      }
      await withPermissions(command, async ({ permissions }) => {
        const { entries, next } = await listEntries(permissions, filter)
        const rows = entries.map((e) => [
          e.seq, e.at.toISOString(), e.actor ?? '-', e.action, e.grantee === null ? '-' : granteeText(e.grantee), target(e), change(e), e.reason ?? ''
        ])
        const lines = entries.length === 0
          ? ['no audit entry matches']
          : table([['seq', 'at', 'actor', 'action', 'grantee', 'on', 'change', 'reason'], ...rows])
        if (next !== null) lines.push(`(more: add --before ${next})`)
        print(command, lines, { entries, next })
      })
    })
}

const PROBLEM = {
  hash: 'its content no longer matches its hash (edited)',
  link: 'it does not follow the entry before it (one was deleted or inserted)'
}

function report (verification: AuditVerification, first: AuditEntry | null): string[] {
  const { entries, brokenAt, broken, brokenCount } = verification
  if (brokenAt === null) return [`audit trail intact: ${entries} entr${entries === 1 ? 'y' : 'ies'} verified`]
  const what = first === null ? '' : ` (${first.at.toISOString()} ${first.action} ${target(first)})`
  return [
    `audit trail broken: ${brokenCount} of ${entries} entries do not fit; the first is entry ${brokenAt}${what}`,
    ...broken.map((b) => `  entry ${b.seq}: ${PROBLEM[b.problem]}`),
    ...(brokenCount > broken.length ? [`  … and ${brokenCount - broken.length} more`] : [])
  ]
}

function verifyCommand (program: Command): void {
  program.command('verify-audit')
    .summary("verify the audit trail's hash chain")
    .description('Recompute the hash chain of the whole audit trail: every entry must match its own hash and follow the entry before it. Exits 0 when the chain is intact, 5 when it is broken, naming the first entry that does not fit.')
    .addHelpText('after', `
Example (a nightly cron job):
  fastify-default-deny verify-audit --json`)
    .action(async (_opts: unknown, command: Command) => {
      await withPermissions(command, async ({ permissions }) => {
        const verification = await permissions.verifyAudit()
        let first: AuditEntry | null = null
        if (verification.brokenAt !== null) {
          // The entry just below brokenAt+1 is brokenAt itself: what it says helps to find it.
          const [entry] = await permissions.audit({ before: String(BigInt(verification.brokenAt) + 1n), limit: 1 })
          first = entry?.seq === verification.brokenAt ? entry : null
        }
        print(command, report(verification, first), { ...verification, first })
        if (!verification.ok) io().exitCode = EXIT.AUDIT_BROKEN
      })
    })
}

export function auditCommands (program: Command): void {
  auditCommand(program)
  verifyCommand(program)
}
