// Positions in the write-ahead log: what a revision is made of, and how far
// a standby has replayed.
import { sql, type Kysely } from 'kysely'
import { parseRevision } from '../revision.js'

/**
 * The statement behind `insertPosition`, for a connection outside Kysely
 * (the cache's LISTEN connection). The insert position is where the next
 * record will start: on a fresh page that is past the page's header, a
 * position no standby reports having replayed (a standby reports the end of
 * the last record, the page's start) until more is written. So a position
 * just past a header (24 bytes, or 40 at a segment's start) is taken back
 * to the page's start.
 */
export const INSERT_POSITION = `select (case
    when (l - '0/0'::pg_lsn) % pg_size_bytes(current_setting('wal_segment_size')) = 40 then l - 40
    when (l - '0/0'::pg_lsn) % current_setting('wal_block_size')::numeric = 24 then l - 24
    else l end)::text as lsn
  from pg_current_wal_insert_lsn() as l`

/**
 * The primary's current insert position. Read after a commit, it is at or
 * past that commit's record: a standby that has replayed up to it sees the
 * change.
 */
export async function insertPosition (db: Kysely<any>): Promise<bigint> {
  const { rows } = await sql<{ lsn: string }>`${sql.raw(INSERT_POSITION)}`.execute(db)
  return parseRevision(rows[0]?.lsn) as bigint
}

/** How far a standby has replayed, or `null` when the server is not a standby. */
export async function replayPosition (db: Kysely<any>): Promise<bigint | null> {
  const { rows } = await sql<{ lsn: string | null }>`select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()::text end as lsn`.execute(db)
  return parseRevision(rows[0]?.lsn)
}
