import { sql, type Kysely } from 'kysely'

// Frozen once released: change the schema with a new migration file.
// Groups stored in the database: a user or a group is a member of a group.
// A principal's groups are its token's groups plus every group reachable
// from it (or from them) through these rows.
const id = sql`text collate "C"`

export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createTable('default_deny_membership')
    .addColumn('group_id', id, (col) => col.notNull())
    .addColumn('member_kind', 'text', (col) => col.notNull())
    .addColumn('member_id', id, (col) => col.notNull())
    .addColumn('added_by', id)
    .addColumn('added_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('default_deny_membership_member_check', sql`
      member_kind in ('user', 'group') and member_id <> '' and group_id <> ''
      and not (member_kind = 'group' and member_id = group_id)`)
    // Member first: every check climbs from a member to its groups.
    .addPrimaryKeyConstraint('default_deny_membership_pkey', ['member_kind', 'member_id', 'group_id'])
    .execute()
  // Listing a group's members.
  await db.schema.createIndex('default_deny_membership_group_idx')
    .on('default_deny_membership').columns(['group_id', 'member_kind', 'member_id']).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('default_deny_membership').execute()
}
