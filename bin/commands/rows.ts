// The file formats of import and export: CSV with a header, or JSON Lines
// (one grant object per line, as the service API returns it). Reading is
// streamed and names each row by its line; a row that cannot be a grant says
// why, and the import refuses the whole file.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Grant, GranteeRef, GrantInput, Privilege } from '../../fastify-plugin.js'
import { parseInstant, UsageError } from './context.js'

export type Format = 'csv' | 'json'

/** The CSV header; `id` empty is a type-level grant, `granteeId` empty for anonymous, `grantedAt` is not imported. */
export const CSV_COLUMNS = ['granteeKind', 'granteeId', 'resource', 'id', 'privilege', 'grantedBy', 'grantedAt', 'expiresAt', 'startsAt'] as const
const REQUIRED = ['granteeKind', 'granteeId', 'resource', 'id', 'privilege']
const JSON_KEYS = new Set(['grantee', 'resource', 'id', 'privilege', 'grantedBy', 'grantedAt', 'expiresAt', 'startsAt'])

export function formatOf (file: string | undefined, explicit: string | undefined): Format {
  if (explicit !== undefined) {
    if (explicit !== 'csv' && explicit !== 'json') throw new UsageError(`--format '${explicit}': expected csv or json`)
    return explicit
  }
  if (file !== undefined && /\.csv$/i.test(file)) return 'csv'
  if (file === undefined || /\.(?:json|jsonl|ndjson)$/i.test(file)) return 'json'
  throw new UsageError(`${file}: give --format csv or --format json (or name the file .csv or .json/.jsonl)`)
}

/** One row of a file: the grant it asks for, or why it cannot be one. */
export type Row = { line: number, input: GrantInput, error?: undefined } | { line: number, error: string, input?: undefined }

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

function fromJson (line: string): GrantInput {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return bad(`not JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('expected a JSON object')
  const fields = value as Record<string, unknown>
  const unknown = Object.keys(fields).find((key) => !JSON_KEYS.has(key))
  if (unknown !== undefined) bad(`unknown property '${unknown}'`)
  const grantee = fields.grantee
  if (typeof grantee !== 'object' || grantee === null) return bad('grantee must be an object { kind, id }')
  const { kind, id } = grantee as Record<string, unknown>
  // A type-level grant is written `"id": null`: a forgotten id must not widen a grant to the whole type.
  if (!('id' in fields) || fields.id === '') bad('id is missing: use null for a type-level grant')
  return grantInput(fields, kind, id)
}

async function * jsonRows (file: string): AsyncGenerator<Row> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
  let line = 0
  for await (const content of lines) {
    line++
    if (content.trim() === '') continue
    yield attempt(line, () => fromJson(content))
  }
}

function attempt (line: number, read: () => GrantInput): Row {
  try {
    return { line, input: read() }
  } catch (err) {
    if (err instanceof RowError) return { line, error: err.message }
    throw err
  }
}

async function * csvRows (file: string): AsyncGenerator<Row> {
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
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>, info: { lines: number } }>) {
      yield attempt(info.lines, () => grantInput(record, record.granteeKind, record.granteeId))
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

/** A grant as one CSV record, in CSV_COLUMNS order. */
export function csvRecord (grant: Grant): string[] {
  return [
    grant.grantee.kind, grant.grantee.kind === 'anonymous' ? '' : grant.grantee.id, grant.resource, grant.id ?? '', grant.privilege,
    grant.grantedBy ?? '', iso(grant.grantedAt), iso(grant.expiresAt), iso(grant.startsAt)
  ]
}
