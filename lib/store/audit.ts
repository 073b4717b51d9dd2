// The hash-chained audit trail: every change appends one entry whose hash
// covers its content and the entry before it, so an edit, a deletion or an
// insertion anywhere shows on verification.
import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { AuditEntry, AuditVerification, GranteeRef, ResourceRef, ScheduledPrivilege } from '../../fastify-plugin.js'
import type { AuditItem, AuditTable } from './schema.js'
import { granteeColumns, ofGrantee, onTarget, toGrantee } from './predicates.js'
import { lockKey, scoped, type StoreProps, type Trx } from './scope.js'

/** Who changed what, and why: recorded with every change. */
export interface WriteContext {
  actor: string | null
  requestId: string | null
  reason: string | null
}

export interface AuditFilter {
  resource?: ResourceRef
  grantee?: GranteeRef
  /** Only entries with a smaller `seq` (the previous page's last one). */
  before?: string
  limit: number
}

/** A grant recorded with its schedule. */
export type ScheduledItem = ScheduledPrivilege

/** One change, as the writer reports it. */
export interface AuditChange {
  action: AuditEntry['action']
  grantee: GranteeRef | null
  target: ResourceRef
  before: Array<string | ScheduledItem>
  after: Array<string | ScheduledItem>
}

export const GENESIS_HASH = '0'.repeat(64)
/** How many bad entries a verification lists; it counts them all. */
export const MAX_REPORTED = 100
const HASHED_COLUMNS = [
  'at', 'actor', 'action', 'principal_kind', 'principal_id', 'resource_type', 'resource_id',
  'before', 'after', 'request_id', 'reason'
] as const
const VERIFY_PAGE = 1000
// PostgreSQL binds at most 65,535 parameters a statement; an entry takes 13.
const AUDIT_ROWS_PER_INSERT = 2000

/** `items` in slices of at most `size`, in order. */
export function chunked<T> (items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

// seq is a bigint, read as a decimal string: a longer one is larger.
const compareSeq = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)

/** An audit row read back differs from what was hashed: refused, rolled back. */
export class AuditMismatch extends Error {
  constructor () {
    super('the database changed an audit value on the way in; the change was refused')
    this.name = 'AuditMismatch'
  }
}

type HashedRow = Omit<AuditTable, 'seq' | 'prev_hash' | 'hash' | 'before' | 'after'> & { before: AuditItem[], after: AuditItem[] }

const toStored = (item: string | ScheduledItem): AuditItem => typeof item === 'string'
  ? item
  : { privilege: item.privilege, startsAt: item.startsAt?.toISOString() ?? null, expiresAt: item.expiresAt?.toISOString() ?? null }

// jsonb keeps an object's keys in its own order, not the order they were
// written in: the items are hashed with their keys sorted (every key, so an
// added one shows), so that what is read back hashes as what was written.
// Entries of plain strings (every entry written before schedules were
// audited) hash as they always did.
const canonicalItem = (item: AuditItem): unknown => typeof item === 'string'
  ? item
  : Object.fromEntries(Object.entries(item).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))

function auditHash (prev: string, row: HashedRow): string {
  // Positional JSON: stable across runtimes, and a field moved between columns shows.
  const canonical = JSON.stringify([
    prev, row.at.toISOString(), row.actor, row.action, row.principal_kind, row.principal_id,
    row.resource_type, row.resource_id, row.before.map(canonicalItem), row.after.map(canonicalItem), row.request_id, row.reason
  ])
  return createHash('sha256').update(canonical).digest('hex')
}

const nameOf = (item: AuditItem) => typeof item === 'string' ? item : item.privilege
const instantOf = (text: string | null) => text === null ? null : new Date(text)

/** The items recorded with a schedule, or null when none was (owner and member entries, and those written before schedules were audited). */
function scheduleOf (before: AuditItem[], after: AuditItem[]): AuditEntry['schedule'] {
  const scheduled = (items: AuditItem[]) => items.flatMap((item) => typeof item === 'string'
    ? []
    : [{ privilege: item.privilege, startsAt: instantOf(item.startsAt), expiresAt: instantOf(item.expiresAt) }])
  const schedule = { before: scheduled(before), after: scheduled(after) }
  return schedule.before.length + schedule.after.length === 0 ? null : schedule
}

/**
 * @example
 * const audit = new AuditLog({ db, database: databaseOf(db), schema: 'public', groupDepth: 8 })
 * const { ok, broken } = await audit.verify()
 */
export class AuditLog {
  readonly #props: StoreProps
  /** The chain's lock, per schema: the chains of two schemas are two chains. */
  readonly #lock: string

  constructor (props: StoreProps) {
    this.#props = Object.freeze({ ...props })
    this.#lock = lockKey(props.schema, 'audit')
  }

  /** Appends one entry. Entries are ordered by commit: the chain lock is held to the end. */
  async append (trx: Trx, change: AuditChange, context: WriteContext): Promise<void> {
    await this.appendMany(trx, [{ change, context }])
  }

  /**
   * Appends the entries in order, as many `append` calls would, in a few
   * statements: the chain lock is taken and the last hash read once, each
   * entry chained to the one before it here. The entries of one call carry
   * one `at`, the time they were written: they commit together.
   */
  async appendMany (trx: Trx, entries: ReadonlyArray<{ change: AuditChange, context: WriteContext }>): Promise<void> {
    if (entries.length === 0) return
    // The unique index on prev_hash (migration 20261210090000) keeps a chain
    // from forking even where two writers do not share this lock: an instance
    // of an earlier version took one key for the whole database.
    await sql`select pg_advisory_xact_lock(hashtextextended(${this.#lock}, 0))`.execute(trx)
    const db = scoped(this.#props, trx)
    const last = await db.selectFrom('default_deny_audit').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst()
    let prev = last?.hash ?? GENESIS_HASH
    const at = new Date()
    const rows = entries.map(({ change, context }) => {
      const columns = change.grantee === null ? null : granteeColumns(change.grantee)
      const row: HashedRow = {
        at,
        actor: context.actor,
        action: change.action,
        principal_kind: columns?.principal_kind ?? null,
        principal_id: columns?.principal_id ?? null,
        resource_type: change.target.resource,
        resource_id: change.target.id,
        before: change.before.map(toStored),
        after: change.after.map(toStored),
        request_id: context.requestId,
        reason: context.reason
      }
      const hashed = { row, prev, hash: auditHash(prev, row) }
      prev = hashed.hash
      return hashed
    })
    for (const chunk of chunked(rows, AUDIT_ROWS_PER_INSERT)) {
      // Hash what is stored, not what was sent: a value PostgreSQL would change
      // on the way in (a lone surrogate becomes U+FFFD) would leave a row that
      // never verifies. Input validation refuses such values; this refuses the
      // write if one ever gets through.
      const stored = await db.insertInto('default_deny_audit').values(chunk.map(({ row, prev, hash }) => ({
        ...row,
        before: JSON.stringify(row.before),
        after: JSON.stringify(row.after),
        prev_hash: prev,
        hash
      }))).returning(['seq', ...HASHED_COLUMNS]).execute()
      // Sorted by seq, not trusted to come back in the order sent.
      stored.sort((a, b) => compareSeq(String(a.seq), String(b.seq)))
      if (stored.length !== chunk.length) throw new AuditMismatch()
      for (const [i, { prev, hash }] of chunk.entries()) {
        const { seq, ...hashed } = stored[i] as (typeof stored)[number]
        if (auditHash(prev, { ...hashed, at: new Date(hashed.at) }) !== hash) throw new AuditMismatch()
      }
    }
  }

  /** Newest first. */
  async list (filter: AuditFilter, db?: Kysely<any>): Promise<AuditEntry[]> {
    let query = scoped(this.#props, db).selectFrom('default_deny_audit').selectAll()
    const { resource, grantee, before } = filter
    if (resource !== undefined) query = query.where((eb) => onTarget(eb, resource))
    if (grantee !== undefined) query = query.where((eb) => ofGrantee(eb, grantee))
    if (before !== undefined) query = query.where('seq', '<', before)
    const rows = await query.orderBy('seq', 'desc').limit(filter.limit).execute()
    return rows.map((row) => ({
      seq: String(row.seq),
      at: new Date(row.at),
      actor: row.actor,
      action: row.action,
      grantee: row.principal_kind === null ? null : toGrantee({ principal_kind: row.principal_kind, principal_id: row.principal_id ?? '' }),
      resource: row.resource_type,
      id: row.resource_id,
      before: row.before.map(nameOf),
      after: row.after.map(nameOf),
      schedule: scheduleOf(row.before, row.after),
      requestId: row.request_id,
      reason: row.reason,
      hash: row.hash
    }))
  }

  /**
   * Recomputes the whole chain in order and reports every entry that does not
   * fit (the first `MAX_REPORTED` of them): `hash` when an entry's content no
   * longer matches its own hash, `link` when it does not follow the entry
   * before it (one was deleted or inserted). The chain goes on from each
   * stored hash, so one edited entry does not make every later one bad.
   */
  async verify (db?: Kysely<any>): Promise<AuditVerification> {
    const table = scoped(this.#props, db)
    const broken: AuditVerification['broken'] = []
    let brokenCount = 0
    let prev = GENESIS_HASH
    let after = '0'
    let entries = 0
    for (;;) {
      const rows = await table.selectFrom('default_deny_audit').selectAll()
        .where('seq', '>', after).orderBy('seq').limit(VERIFY_PAGE).execute()
      if (rows.length === 0) break
      for (const row of rows) {
        const problem = row.hash !== auditHash(row.prev_hash, { ...row, at: new Date(row.at) })
          ? 'hash'
          : row.prev_hash !== prev ? 'link' : null
        if (problem !== null) {
          brokenCount++
          if (broken.length < MAX_REPORTED) broken.push({ seq: String(row.seq), problem })
        }
        prev = row.hash
        after = String(row.seq)
        entries++
      }
    }
    return { ok: brokenCount === 0, entries, brokenAt: broken[0]?.seq ?? null, broken, brokenCount }
  }
}
