// The file formats of import and export: CSV with a header, or JSON Lines
// (one grant object per line, as the service API returns it). Reading is
// streamed and names each row by its line; a row that cannot be a grant says
// why, and the import refuses the whole file.
import { createReadStream } from 'node:fs'
import type { Grant, GranteeRef, GrantInput, Privilege, ResourceInstance } from '../../fastify-plugin.js'
import { parseInstant, UsageError } from './context.js'

export type Format = 'csv' | 'json'

/**
 * The CSV header; `id` empty is a type-level grant, `granteeId` empty for
 * anonymous, `grantedAt` is not imported. A row with `parentResource` and
 * `parentId` (and no grantee, privilege or dates) records a parent instead.
 */
export const CSV_COLUMNS = ['granteeKind', 'granteeId', 'resource', 'id', 'privilege', 'grantedBy', 'grantedAt', 'expiresAt', 'startsAt', 'parentResource', 'parentId'] as const
const REQUIRED = ['granteeKind', 'granteeId', 'resource', 'id', 'privilege']
const JSON_KEYS = new Set(['grantee', 'resource', 'id', 'privilege', 'grantedBy', 'grantedAt', 'expiresAt', 'startsAt'])
const GRANT_ONLY = ['granteeKind', 'granteeId', 'privilege', 'grantedBy', 'grantedAt', 'expiresAt', 'startsAt']

/** One resource placed under another: a parent row of a file. */
export interface ParentLink { child: ResourceInstance, parent: ResourceInstance }

export function formatOf (file: string | undefined, explicit: string | undefined): Format {
  if (explicit !== undefined) {
    if (explicit !== 'csv' && explicit !== 'json') throw new UsageError(`--format '${explicit}': expected csv or json`)
    return explicit
  }
  if (file !== undefined && /\.csv$/i.test(file)) return 'csv'
  if (file === undefined || /\.(?:json|jsonl|ndjson)$/i.test(file)) return 'json'
  throw new UsageError(`${file}: give --format csv or --format json (or name the file .csv or .json/.jsonl)`)
}

/** One row of a file: the grant it asks for, the parent it records, or why it cannot be either. */
export type Row =
  | { line: number, input: GrantInput, link?: undefined, error?: undefined }
  | { line: number, link: ParentLink, input?: undefined, error?: undefined }
  | { line: number, error: string, input?: undefined, link?: undefined }
type Read = { input: GrantInput } | { link: ParentLink }

class RowError extends Error {}
const bad = (message: string): never => { throw new RowError(message) }

const text = (value: unknown, name: string, optional: boolean): string | null => {
  if (value === undefined || value === null || value === '') return optional ? null : bad(`${name} is missing`)
  return typeof value === 'string' ? value : bad(`${name} must be a string`)
}
const instant = (value: unknown, name: string): Date | null => {
  const given = text(value, name, true)
  if (given === null) return null
  try {
    return parseInstant(given, name)
  } catch (err) {
    return bad((err as Error).message)
  }
}

/** The flat fields of either format as the service API's input. */
function grantInput (fields: Record<string, unknown>, kind: unknown, granteeId: unknown): GrantInput {
  const grantee: GranteeRef = kind === 'anonymous'
    ? (text(granteeId, 'granteeId', true) === null ? { kind: 'anonymous' } : bad('an anonymous grantee has no id'))
    : kind === 'user' || kind === 'group'
      ? { kind, id: text(granteeId, 'granteeId', false) as string }
      : bad(`grantee kind '${String(kind)}': expected user, group or anonymous`)
  return {
    grantee,
    resource: text(fields.resource, 'resource', false) as string,
    id: text(fields.id, 'id', true),
    privilege: text(fields.privilege, 'privilege', false) as Privilege,
    grantedBy: text(fields.grantedBy, 'grantedBy', true),
    expiresAt: instant(fields.expiresAt, 'expiresAt'),
    startsAt: instant(fields.startsAt, 'startsAt')
  }
}

/** A parent row's fields: the child's type and id, and the parent's. */
function parentLink (resource: unknown, id: unknown, parentResource: unknown, parentId: unknown): ParentLink {
  return {
    child: { resource: text(resource, 'resource', false) as string, id: text(id, 'id', false) as string },
    parent: { resource: text(parentResource, 'parent resource', false) as string, id: text(parentId, 'parent id', false) as string }
  }
}

function fromJson (line: string): Read {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return bad(`not JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('expected a JSON object')
  const fields = value as Record<string, unknown>
  if ('parent' in fields) {
    // {"resource":"document","id":"d9","parent":{"resource":"folder","id":"f2"}}
    const extra = Object.keys(fields).find((key) => !['resource', 'id', 'parent'].includes(key))
    if (extra !== undefined) bad(`a parent row has only resource, id and parent (got '${extra}')`)
    const parent = fields.parent
    if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) return bad('parent must be an object { resource, id }')
    const { resource, id, ...more } = parent as Record<string, unknown>
    if (Object.keys(more).length > 0) bad(`parent has only resource and id (got '${Object.keys(more)[0] as string}')`)
    return { link: parentLink(fields.resource, fields.id, resource, id) }
  }
  const unknown = Object.keys(fields).find((key) => !JSON_KEYS.has(key))
  if (unknown !== undefined) bad(`unknown property '${unknown}'`)
  const grantee = fields.grantee
  if (typeof grantee !== 'object' || grantee === null) return bad('grantee must be an object { kind, id }')
  const { kind, id } = grantee as Record<string, unknown>
  // A type-level grant is written `"id": null`: a forgotten id must not widen a grant to the whole type.
  if (!('id' in fields) || fields.id === '') bad('id is missing: use null for a type-level grant')
  return { input: grantInput(fields, kind, id) }
}

function fromCsv (cells: Record<string, string>): Read {
  if ((cells.parentResource ?? '') === '' && (cells.parentId ?? '') === '') return { input: grantInput(cells, cells.granteeKind, cells.granteeId) }
  const extra = GRANT_ONLY.find((name) => (cells[name] ?? '') !== '')
  if (extra !== undefined) bad(`a parent row (parentResource, parentId) has no ${extra}`)
  return { link: parentLink(cells.resource, cells.id, cells.parentResource, cells.parentId) }
}

// Files are decoded strictly: a byte sequence that is not UTF-8 would
// otherwise become U+FFFD and be stored as something nobody wrote.
const NOT_UTF8 = 'not valid UTF-8 text'

/** The file's lines (LF or CRLF), each decoded strictly: null where a line is not UTF-8. */
async function * utf8Lines (file: string): AsyncGenerator<string | null> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  let pending: Buffer[] = []
  let first = true
  const decode = (bytes: Buffer): string | null => {
    try {
      // Only the file's first line may carry a byte order mark.
      const text = first ? decoder.decode(bytes) : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
      first = false
      return text.endsWith('\r') ? text.slice(0, -1) : text
    } catch {
      first = false
      return null
    }
  }
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0
    // A newline byte never occurs inside a multi-byte UTF-8 sequence.
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, at))
      yield decode(Buffer.concat(pending))
      pending = []
      start = at + 1
    }
    if (start < chunk.length) pending.push(chunk.subarray(start))
  }
  if (pending.length > 0) yield decode(Buffer.concat(pending))
}

/** The numbers of the lines of `file` that are not UTF-8. */
async function invalidLines (file: string): Promise<Set<number>> {
  const bad = new Set<number>()
  let line = 0
  for await (const text of utf8Lines(file)) {
    line++
    if (text === null) bad.add(line)
  }
  return bad
}

async function * jsonRows (file: string): AsyncGenerator<Row> {
  let line = 0
  for await (const content of utf8Lines(file)) {
    line++
    if (content === null) {
      yield { line, error: NOT_UTF8 }
      continue
    }
    if (content.trim() === '') continue
    yield attempt(line, () => fromJson(content))
  }
}

function attempt (line: number, read: () => Read): Row {
  try {
    return { line, ...read() }
  } catch (err) {
    if (err instanceof RowError) return { line, error: err.message }
    throw err
  }
}

async function * csvRows (file: string): AsyncGenerator<Row> {
  // Before the parser exists: piped, it starts reading at once, and an error
  // it meets while nothing iterates it yet would go unhandled.
  const bad = await invalidLines(file)
  const { parse } = await import('csv-parse')
  const parser = createReadStream(file).pipe(parse({
    bom: true,
    info: true,
    skip_empty_lines: true,
    columns: (header: string[]) => {
      const unknown = header.find((name) => !(CSV_COLUMNS as readonly string[]).includes(name))
      if (unknown !== undefined) throw new RowError(`unknown column '${unknown}' (columns: ${CSV_COLUMNS.join(',')})`)
      const missing = REQUIRED.find((name) => !header.includes(name))
      if (missing !== undefined) throw new RowError(`the header has no '${missing}' column (columns: ${CSV_COLUMNS.join(',')})`)
      return header
    }
  }))
  let previous = 1
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>, info: { lines: number } }>) {
      // A quoted field may span lines: the record is bad if any of its lines is.
      let utf8 = true
      for (let line = previous + 1; line <= info.lines && utf8; line++) utf8 = !bad.has(line)
      previous = info.lines
      if (!utf8) {
        yield { line: info.lines, error: NOT_UTF8 }
        continue
      }
      const cells: Record<string, string> = {}
      for (const [name, value] of Object.entries(record)) cells[name] = fromCsvCell(value)
      yield attempt(info.lines, () => fromCsv(cells))
    }
  } catch (err) {
    // A malformed file (an unclosed quote, a row of the wrong width) ends the reading: nothing after it can be trusted.
    const line = (err as { lines?: number }).lines ?? 1
    yield { line, error: err instanceof RowError ? err.message : (err as Error).message }
  }
}

export function readRows (file: string, format: Format): AsyncGenerator<Row> {
  return format === 'csv' ? csvRows(file) : jsonRows(file)
}

const iso = (date: Date | null) => date === null ? '' : date.toISOString()

// A spreadsheet runs a cell that begins with one of these as a formula (an
// export is exactly what an operator opens in one): such a cell is written
// with a leading apostrophe, which spreadsheets show as text. A cell that
// itself begins with an apostrophe gets one too, so reading strips exactly
// one and export → import gives back what was stored.
const FORMULA = /^[=+\-@\t\r']/

/** A text cell as export writes it: safe to open in a spreadsheet. */
export function csvCell (text: string): string {
  return FORMULA.test(text) ? `'${text}` : text
}

/** A text cell as export wrote it: the value stored. */
export function fromCsvCell (text: string): string {
  return text.startsWith("'") ? text.slice(1) : text
}

/** A grant as one CSV record, in CSV_COLUMNS order. */
export function csvRecord (grant: Grant): string[] {
  return [
    grant.grantee.kind, grant.grantee.kind === 'anonymous' ? '' : grant.grantee.id, grant.resource, grant.id ?? '', grant.privilege,
    grant.grantedBy ?? '', iso(grant.grantedAt), iso(grant.expiresAt), iso(grant.startsAt), '', ''
  ].map(csvCell)
}

/** A parent as one CSV record, in CSV_COLUMNS order. */
export function csvParentRecord ({ child, parent }: ParentLink): string[] {
  return ['', '', child.resource, child.id, '', '', '', '', '', parent.resource, parent.id].map(csvCell)
}

/** A parent as one JSON Lines record. */
export const jsonParentRecord = ({ child, parent }: ParentLink): string => JSON.stringify({ resource: child.resource, id: child.id, parent })
