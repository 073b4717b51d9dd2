// Revisions: how fresh an answer must be. A revision is a position in
// PostgreSQL's write-ahead log, read after a change committed; an answer "at
// least as fresh" as it reflects every change committed before it. Text on
// the wire (PostgreSQL's own `16/B374D848` form), a bigint inside so that
// positions compare as numbers.
import { codes } from './errors.js'

/** The header a request presents a revision in, and a write's response carries its revision in. */
export const REVISION_HEADER = 'default-deny-revision'

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/

/** The position `text` stands for, or `null` when it is not one. */
export function parseRevision (text: unknown): bigint | null {
  if (typeof text !== 'string') return null
  const match = LSN.exec(text)
  if (match === null) return null
  return (BigInt(`0x${match[1] as string}`) << 32n) | BigInt(`0x${match[2] as string}`)
}

export function formatRevision (position: bigint): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xFFFFFFFFn).toString(16).toUpperCase()}`
}

/** A presented revision, checked: `undefined` or `null` is none; anything else must be one (400 otherwise). */
export function presentedRevision (value: unknown): bigint | null {
  if (value === undefined || value === null) return null
  const position = parseRevision(value)
  if (position === null) throw new codes.FST_DEFAULT_DENY_INVALID_REVISION()
  return position
}
