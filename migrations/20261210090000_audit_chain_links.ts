import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// Each audit entry names its predecessor's hash, so two entries naming the
// same one are a fork of the chain. Writers append under an advisory lock,
// which since this release is taken per schema; instances of the earlier
// releases took one key for the whole database, so during a rolling upgrade
// an old and a new instance do not exclude each other. This unique index
// makes the second of two such appends fail (and roll back) instead of
// forking the chain.
//
// Only entries written from now on are held to it: a trail already broken
// (an entry edited or slipped in, which `verifyAudit` reports) must not stop
// the upgrade. The table is locked against appends while the bound is read,
// so no entry written meanwhile escapes the index.

function qualify (db: Kysely<any>): (name: string) => string {
  const compiled = db.selectFrom('default_deny_audit').selectAll().compile().sql
  const schema = /from ("(?:[^"]|"")+")\."default_deny_audit"/.exec(compiled)?.[1] ?? '"public"'
  return (name) => `${schema}."${name}"`
}

export async function up (db: Kysely<any>): Promise<void> {
  const q = qualify(db)
  await sql.raw(`lock table ${q('default_deny_audit')} in share mode`).execute(db)
  const { rows } = await sql.raw<{ last: string }>(`select coalesce(max(seq), 0)::text as last from ${q('default_deny_audit')}`).execute(db)
  const last = BigInt(rows[0]?.last ?? '0')
  await sql.raw(`create unique index default_deny_audit_prev_hash_key on ${q('default_deny_audit')} (prev_hash) where seq > ${last.toString()}`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw(`drop index ${qualify(db)('default_deny_audit_prev_hash_key')}`).execute(db)
}
