// Positions in the write-ahead log: what a revision is made of, and how far
// a standby has replayed.
import { sql, type Kysely } from 'kysely'
import { parseRevision } from '../revision.js'

/** The statement behind `insertPosition`, for a connection outside Kysely (the cache's LISTEN connection). */
export const INSERT_POSITION = 'select pg_current_wal_insert_lsn()::text as lsn'

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
