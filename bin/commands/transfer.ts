// import and export of grants, as CSV or JSON Lines. An import reads its file
// twice: first every row is checked (parsed, then judged by the service as
// the write would judge it), and one bad row refuses the file; then
// the grants go through the service API (grantMany, a chunk at a time)
// inside one transaction, so a row the service refuses rolls back the rows
// before it too. Standard input (`-`) cannot be read twice: it is spooled to a
// temporary file first. The CSV and progress-bar packages load only in the
// commands that use them: every other command, and --help, starts without.
import { createWriteStream } from 'node:fs'
import { access, mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Command } from 'commander'
import { sql, type Kysely } from 'kysely'
import type { DefaultDenyApi, Grant, GranteeRef, GrantInput } from '../../fastify-plugin.js'
import { audited, EXIT, failure, globals, openedDatabase, parseGrantee, print, RefusedError, UsageError, withPermissions } from './context.js'
import { csvParentRecord, csvRecord, CSV_COLUMNS, formatOf, jsonParentRecord, readRows, type Format, type ParentLink, type Row } from './rows.js'
import { io } from './io.js'

/** The most bad rows an import lists; it counts them all. */
const MAX_LISTED = 20
/** Rows per grantMany call: memory stays flat however large the file. */
const CHUNK = 1000

interface Progress { advance: (rows: number) => void, done: () => void }

/** A bar on a terminal; otherwise a line at every tenth, which a log keeps readable. */
async function progress (label: string, total: number): Promise<Progress> {
  if (io().stderr.isTTY === true) {
    const { default: cliProgress } = await import('cli-progress')
    const bar = new cliProgress.SingleBar({
      format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {eta_formatted} left`, stream: io().stderr, hideCursor: true
    }, cliProgress.Presets.shades_classic)
    bar.start(total, 0)
    return { advance: (rows) => bar.increment(rows), done: () => bar.stop() }
  }
  let done = 0
  let tenths = 0
  return {
    advance: (rows) => {
      done += rows
      const reached = Math.floor(done * 10 / total)
      if (reached > tenths) {
        tenths = reached
        io().stderr.write(`${label}: ${done}/${total} rows (${Math.floor(done * 100 / total)}%)\n`)
      }
    },
    done: () => {}
  }
}

interface LinkRow { line: number, link: ParentLink }

/**
 * Records the file's parents inside `trx`, each under a savepoint, and
 * returns the rows the service refused. A row refused because of where
 * something stood before (a cycle through a parent the file moves later
 * on, say) is tried again once the others are in place, as long as a round
 * places any: the file's order never matters, only whether the tree it
 * describes is allowed.
 */
async function placeAll (permissions: DefaultDenyApi, trx: Kysely<any>, links: LinkRow[], context: { actor: string | null, reason: string | null }): Promise<Array<{ line: number, message: string }>> {
  let pending = links
  let refused: Array<{ line: number, message: string }> = []
  for (;;) {
    const next: LinkRow[] = []
    refused = []
    for (const row of pending) {
      await sql`savepoint fastify_default_deny_import`.execute(trx)
      try {
        await permissions.setParent(row.link.child, row.link.parent, { db: trx, ...context })
        await sql`release savepoint fastify_default_deny_import`.execute(trx)
      } catch (err) {
        await sql`rollback to savepoint fastify_default_deny_import`.execute(trx)
        const { code, message } = failure(err)
        if (code !== EXIT.REFUSED) throw err
        next.push(row)
        refused.push({ line: row.line, message })
      }
    }
    if (next.length === 0 || next.length === pending.length) return refused
    pending = next
  }
}

/** Thrown to roll back the checking pass's trial of the parents. */
class TrialOver extends Error {}

/**
 * Pass one: every row checked, nothing written. A row must parse, and the
 * service must accept it: the same checks as `grantMany` (privilege, known
 * resource type, schedule, eligibility), run by `validateGrants` a chunk at
 * a time, so every row the write would refuse is named now, not on a
 * second run. Parent rows are tried for real (types the hierarchy allows,
 * no cycle, maxDepth) in a transaction that is then rolled back. Returns how
 * many rows there are, and the parent rows.
 */
async function checkRows (permissions: DefaultDenyApi, db: Kysely<any>, file: string, name: string, format: Format, actor: string | null): Promise<{ rows: number, links: LinkRow[] }> {
  const links: LinkRow[] = []
  const bad: Array<{ line: number, message: string }> = []
  let rows = 0
  let badCount = 0
  const refuse = (line: number, message: string) => {
    badCount++
    if (bad.length < MAX_LISTED) bad.push({ line, message })
  }
  let chunk: Array<Row & { input: GrantInput }> = []
  const validate = async () => {
    for (const refusal of await permissions.validateGrants(chunk.map((row) => row.input), { actor })) {
      refuse((chunk[refusal.index] as Row).line, refusal.message)
    }
    chunk = []
  }
  for await (const row of readRows(file, format)) {
    if (row.error !== undefined) {
      refuse(row.line, row.error)
      continue
    }
    rows++
    if (row.link !== undefined) {
      links.push({ line: row.line, link: row.link })
      continue
    }
    chunk.push(row)
    if (chunk.length === CHUNK) await validate()
  }
  if (chunk.length > 0) await validate()
  if (links.length > 0) {
    await db.transaction().execute(async (trx) => {
      for (const { line, message } of await placeAll(permissions, trx, links, { actor, reason: null })) refuse(line, message)
      throw new TrialOver()
    }).catch((err: unknown) => { if (!(err instanceof TrialOver)) throw err })
  }
  if (badCount > 0) {
    // Rows refused by the service come after the parse errors of later lines: list them in file order.
    bad.sort((a, b) => a.line - b.line)
    const listed = bad.map((b) => `  line ${b.line}: ${b.message}`)
    const more = badCount > bad.length ? [`  … and ${badCount - bad.length} more`] : []
    throw new RefusedError([`nothing imported: ${badCount} bad row${badCount === 1 ? '' : 's'} in ${name}`, ...listed, ...more].join('\n'), { bad: badCount, rows: bad })
  }
  return { rows, links }
}

/** Standard input as a file both passes can read, and how to remove it. */
async function spoolStdin (): Promise<{ file: string, remove: () => Promise<void> }> {
  if (io().stdin.isTTY === true) throw new UsageError('import -: standard input is a terminal; pipe the grants in (… | fastify-default-deny import -)')
  const dir = await mkdtemp(join(tmpdir(), 'fastify-default-deny-import-'))
  const remove = async () => { await rm(dir, { recursive: true, force: true }) }
  try {
    const file = join(dir, 'stdin')
    await pipeline(io().stdin, createWriteStream(file, { mode: 0o600 }))
    return { file, remove }
  } catch (err) {
    await remove()
    throw err
  }
}

function importCommand (program: Command): void {
  audited(program.command('import')
    .summary('import grants from a CSV or JSON Lines file, all or nothing')
    .description('Grant every row of the file, in one transaction: all or nothing. Every row is checked first; one bad row (or one the service refuses) and nothing is imported, and the error names its line. Rows that already exist count as kept. Progress goes to standard error.')
    .argument('<file>', 'a .csv file with a header, or .json/.jsonl (one grant object per line); - for standard input')
    .option('--format <format>', 'csv or json (default: from the file name; json for standard input)')
    .addHelpText('after', `
CSV header: ${CSV_COLUMNS.join(',')}
  (an empty id is a type-level grant; granteeId is empty for anonymous; grantedAt is not imported;
  a row with parentResource and parentId, and no grantee or privilege, places resource/id under that parent)
JSON Lines: {"grantee":{"kind":"user","id":"alice"},"resource":"document","id":"42","privilege":"read","expiresAt":null}
  and for a parent: {"resource":"document","id":"42","parent":{"resource":"folder","id":"f2"}}
Parents are recorded in the same transaction as the grants, in any order (a child may come before its parent).
The output of export is valid input.

Examples:
  fastify-default-deny import grants.csv --actor ops --reason "migration from the old system"
  old-system-export | fastify-default-deny import - --format csv`))
    .action(async (path: string, opts: { format?: string, actor?: string, reason?: string }, command: Command) => {
      const stdin = path === '-'
      const format = formatOf(stdin ? undefined : path, opts.format)
      if (!stdin) await access(path).catch(() => { throw new UsageError(`${path}: no such file, or not readable`) })
      const spooled = stdin ? await spoolStdin() : undefined
      try {
        await importFile(command, spooled?.file ?? path, stdin ? 'standard input' : path, format, opts)
      } finally {
        await spooled?.remove()
      }
    })
}

/** Both passes over one file; `name` is what the messages call it. */
async function importFile (command: Command, file: string, name: string, format: Format, opts: { actor?: string, reason?: string }): Promise<void> {
  await withPermissions(command, async ({ permissions, db, schema }) => {
    const { rows: total, links } = await checkRows(permissions, db, file, name, format, opts.actor ?? null)
    const bar = await progress('import', total)
    let created = 0
    try {
      await db.transaction().execute(async (trx) => {
        let chunk: Array<Row & { input: GrantInput }> = []
        const flush = async () => {
          try {
            const result = await permissions.grantMany(chunk.map((row) => row.input), { db: trx, actor: opts.actor ?? null, reason: opts.reason ?? null })
            created += result.created.filter(Boolean).length
          } catch (err) {
            const { code, message } = failure(err)
            const line = chunk[(err as { index?: number }).index ?? -1]?.line
            if (code !== EXIT.REFUSED || line === undefined) throw err
            throw new RefusedError(`nothing imported: line ${line}: ${message}`, { bad: 1, rows: [{ line, message }] })
          }
          bar.advance(chunk.length)
          chunk = []
        }
        for await (const row of readRows(file, format)) {
          if (row.error !== undefined) throw new RefusedError(`nothing imported: line ${row.line}: ${row.error} (the file changed while importing)`)
          if (row.link !== undefined) continue
          chunk.push(row)
          if (chunk.length === CHUNK) await flush()
        }
        if (chunk.length > 0) await flush()
        // The parents the first pass read, in the same transaction as the grants.
        const refused = await placeAll(permissions, trx, links, { actor: opts.actor ?? null, reason: opts.reason ?? null })
        const first = refused[0]
        if (first !== undefined) throw new RefusedError(`nothing imported: line ${first.line}: ${first.message}`, { bad: refused.length, rows: refused })
        bar.advance(links.length)
      })
    } finally {
      bar.done()
    }
    // The embedded database has no autovacuum: without this its planner would
    // know nothing of what was just imported (see lib/store/maintenance.ts).
    const { refreshEmbeddedStatistics } = await import('../../lib/store/maintenance.js')
    await refreshEmbeddedStatistics(db, schema)
    const grantRows = total - links.length
    print(command, `imported ${total} row${total === 1 ? '' : 's'} from ${name}: ${created} new, ${grantRows - created} already granted${links.length === 0 ? '' : `, ${links.length} parent${links.length === 1 ? '' : 's'} recorded`}`, {
      rows: total, created, existing: grantRows - created, ...(links.length === 0 ? {} : { parents: links.length })
    })
  })
}

/** Every recorded parent, a page at a time; only children of type `resource` when given. */
async function * everyParent (permissions: DefaultDenyApi, resource: string | undefined): AsyncGenerator<ParentLink> {
  let after: string | null = null
  for (;;) {
    const page = await permissions.scanParents({ after })
    for (const { resource: type, id, parent } of page.parents) {
      if (resource === undefined || type === resource) yield { child: { resource: type, id }, parent }
    }
    if (page.next === null) return
    after = page.next
  }
}

/** Every grant matching the filter, a page at a time. */
async function * everyGrant (permissions: DefaultDenyApi, filter: { grantee?: GranteeRef, resource?: string }): AsyncGenerator<Grant> {
  let after: string | undefined
  for (;;) {
    const page = await permissions.scanGrants({ ...filter, ...(after === undefined ? {} : { after }) })
    yield * page.grants
    if (page.next === null) return
    after = page.next
  }
}

function exportCommand (program: Command): void {
  program.command('export')
    .summary('export grants as CSV or JSON Lines')
    .description('Write every stored grant (or a grantee\'s, or a resource type\'s) to a file or standard output, a page at a time, then every recorded parent (of that type\'s resources; none with --grantee). Expired grants not yet purged are included.')
    .argument('[file]', 'where to write (default: standard output)')
    .option('--format <format>', 'csv or json (JSON Lines; default: from the file name, json on standard output)')
    .option('--resource <type>', 'only grants on this resource type')
    .option('--grantee <grantee>', 'only grants held directly by user:ID, group:ID or anonymous')
    .addHelpText('after', `
Examples:
  fastify-default-deny export grants.csv
  fastify-default-deny export --format json --resource document > documents.jsonl`)
    .action(async (file: string | undefined, opts: { format?: string, resource?: string, grantee?: string }, command: Command) => {
      const format = formatOf(file, opts.format)
      const filter = {
        ...(opts.grantee === undefined ? {} : { grantee: parseGrantee(opts.grantee, '--grantee') }),
        ...(opts.resource === undefined ? {} : { resource: opts.resource })
      }
      // Opened before anything is read: a path that cannot be written is a clean error, not a crash mid-stream.
      const sink = file === undefined ? undefined : await open(file, 'w').then((handle) => handle.createWriteStream(), (err: NodeJS.ErrnoException) => {
        throw new UsageError(`${file}: cannot write there (${err.code === 'ENOENT' ? 'no such directory' : err.code ?? err.message})`)
      })
      const whole = file === undefined && globals(command).json === true
      await withPermissions(command, async ({ permissions }) => {
        let count = 0
        let parents = 0
        // Without any parent the file is what it was before hierarchies: the parent columns only when needed.
        const withParents = filter.grantee === undefined && (await permissions.scanParents({ limit: 1 })).parents.length > 0
        const columns = withParents ? [...CSV_COLUMNS] : CSV_COLUMNS.slice(0, -2)
        const grants = async function * () {
          // --json on standard output is one JSON document, like every other command's, streamed a grant at a time.
          if (whole) yield `{\n  "database": ${JSON.stringify(openedDatabase() ?? null)},\n  "format": "json",\n  "grants": [`
          for await (const grant of everyGrant(permissions, filter)) {
            count++
            if (whole) yield `${count === 1 ? '' : ','}\n    ${JSON.stringify(grant)}`
            else yield format === 'csv' ? csvRecord(grant).slice(0, columns.length) : `${JSON.stringify(grant)}\n`
          }
          if (whole) yield `${count === 0 ? '' : '\n  '}],`
          if (withParents) {
            if (whole) yield '\n  "parents": ['
            for await (const link of everyParent(permissions, filter.resource)) {
              parents++
              if (whole) yield `${parents === 1 ? '' : ','}\n    ${jsonParentRecord(link)}`
              else yield format === 'csv' ? csvParentRecord(link) : `${jsonParentRecord(link)}\n`
            }
            if (whole) yield `${parents === 0 ? '' : '\n  '}],`
          }
          if (whole) yield `\n  "exported": ${count}${withParents ? `,\n  "parentsExported": ${parents}` : ''}\n}\n`
        }
        const source = Readable.from(grants(), { objectMode: true })
        const out = sink ?? io().stdout
        if (format === 'csv' && !whole) {
          const { stringify } = await import('csv-stringify')
          await pipeline(source, stringify({ header: true, columns }), out, { end: file !== undefined })
        } else {
          await pipeline(source, out, { end: file !== undefined })
        }
        if (file !== undefined) {
          print(command, `exported ${count} grant${count === 1 ? '' : 's'}${withParents ? ` and ${parents} parent${parents === 1 ? '' : 's'}` : ''} to ${file}`,
            { exported: count, ...(withParents ? { parents } : {}), file, format })
        }
      })
    })
}

export function transferCommands (program: Command): void {
  importCommand(program)
  exportCommand(program)
}
