// Groups stored in the database: who is a member of which group, the groups
// a principal reaches through them, and the writes that change them (each
// audited in the same transaction, like a grant).
import { sql, type Kysely } from 'kysely'
import type { GroupPath, MemberRef, Membership, Principal } from '../../fastify-plugin.js'
import { codes } from '../errors.js'
import type { AuditLog, WriteContext } from './audit.js'
import { bindText, reachText, sorted } from './predicates.js'
import { scoped, type StoreProps, type Trx } from './scope.js'

export interface MembersProps extends StoreProps {
  readonly audit: AuditLog
  /** The resource type of groups: audit entries name `{ resource, id: group }`. */
  readonly groupResource: string
}

const MEMBER = 'member'

// The transaction-local setting the closure's triggers read their limit from
// (migration 20261206120000), and the SQLSTATE they refuse with over it.
const LIMIT_SETTING = 'fastify_default_deny.max_membership_change'
const OVER_LIMIT = 'DD001'

// The reach of a principal with, for each group, the member it was reached
// through: `$1` the user id (null for none), `$2` the token's groups.
function reachQuery (props: StoreProps): string {
  return `with ${reachText(props, '$1', '$2', true)} select id, level, via from reach order by level, id`
}

/**
 * Locks (FOR SHARE) the membership rows that put the principal in its groups,
 * inside a write that decides on its rights: a concurrent removal of one
 * waits until the write ends, so nothing commits on a membership already
 * taken away.
 */
export async function lockMemberships (props: StoreProps, trx: Trx, principal: Principal): Promise<void> {
  const user = principal.kind === 'user' ? principal.id : null
  if ((user === null && principal.groups.length === 0) || props.groupDepth === 0) return
  const table = `"${props.schema}".default_deny_membership`
  const text = `with ${reachText(props, '$1', '$2', false)}
select 1 from ${table} m where m.group_id in (select id from reach)
  and ((m.member_kind = 'user' and m.member_id = $1)
    or (m.member_kind = 'group' and (m.member_id in (select id from reach) or m.member_id = any($2::text[]))))
for share of m`
  await bindText(text, [user, [...principal.groups]]).execute(trx)
}

export class MembershipStore {
  readonly #props: MembersProps
  readonly #reach: string

  constructor (props: MembersProps) {
    this.#props = Object.freeze({ ...props })
    this.#reach = reachQuery(props)
  }

  /**
   * Every group the principal is in, each with the shortest chain of groups
   * that leads to it (nearest first; empty for the token's groups and direct
   * memberships). Bounded by `groupDepth` like the check.
   */
  async groupsOf (principal: Principal, db?: Kysely<any>): Promise<GroupPath[]> {
    const user = principal.kind === 'user' ? principal.id : null
    if (this.#props.groupDepth === 0) return sorted(principal.groups).map((group) => ({ group, via: [], source: 'token' }))
    const rows = (await bindText<unknown>(this.#reach, [user, [...principal.groups]]).execute(db ?? this.#props.db)).rows as Array<{ id: string, via: string | null }>
    const token = new Set(principal.groups)
    // One row per group, at its shortest level, naming the group one level
    // nearer it was reached through; the token's groups start their chains.
    const parent = new Map<string, string | null>(principal.groups.map((group) => [group, null]))
    for (const row of rows) if (!parent.has(row.id)) parent.set(row.id, row.via)
    return [...parent.keys()].sort().map((group) => {
      const via: string[] = []
      for (let at = parent.get(group) ?? null; at !== null; at = parent.get(at) ?? null) via.unshift(at)
      return { group, via, source: token.has(via[0] ?? group) ? 'token' : 'membership' }
    })
  }

  /** The members of `group`, users first, then groups, each by id. */
  async list (group: string, db?: Kysely<any>): Promise<Membership[]> {
    const rows = await scoped(this.#props, db).selectFrom('default_deny_membership')
      .select(['member_kind', 'member_id', 'added_by', 'added_at'])
      .where('group_id', '=', group)
      .orderBy('member_kind', 'desc').orderBy('member_id')
      .execute()
    return rows.map((row) => ({
      group, member: { kind: row.member_kind, id: row.member_id }, addedBy: row.added_by, addedAt: new Date(row.added_at)
    }))
  }

  /**
   * Makes `member` a member of `group`; false when it already was. Refused
   * (FST_DEFAULT_DENY_MEMBERSHIP_LIMIT, nothing written) when the closure
   * would have to settle more than `limit` member–group pairs.
   */
  async add (trx: Trx, group: string, member: MemberRef, context: WriteContext, limit: number): Promise<boolean> {
    const inserted = await this.#bounded(trx, limit, async () => await scoped(this.#props, trx).insertInto('default_deny_membership')
      .values({ group_id: group, member_kind: member.kind, member_id: member.id, added_by: context.actor })
      .onConflict((oc) => oc.doNothing())
      .returning(sql<number>`1`.as('n'))
      .executeTakeFirst())
    if (inserted === undefined) return false
    await this.#audit(trx, group, member, [], [MEMBER], context)
    return true
  }

  /** Takes `member` out of `group`; false when it was not a member. Bounded by `limit` like `add`. */
  async remove (trx: Trx, group: string, member: MemberRef, context: WriteContext, limit: number): Promise<boolean> {
    const deleted = await this.#bounded(trx, limit, async () => await scoped(this.#props, trx).deleteFrom('default_deny_membership')
      .where('group_id', '=', group).where('member_kind', '=', member.kind).where('member_id', '=', member.id)
      .returning(sql<number>`1`.as('n'))
      .executeTakeFirst())
    if (deleted === undefined) return false
    await this.#audit(trx, group, member, [MEMBER], [], context)
    return true
  }

  // The triggers count the pairs before they write the users' part, so a
  // change over the limit costs about as much as one at it. The setting is
  // cleared afterwards: a host's own statements later in its transaction
  // are plain SQL, and unlimited.
  async #bounded<T> (trx: Trx, limit: number, write: () => Promise<T>): Promise<T> {
    await sql`select set_config(${LIMIT_SETTING}, ${String(limit)}, true)`.execute(trx)
    let result: T
    try {
      result = await write()
    } catch (err) {
      if ((err as { code?: unknown }).code === OVER_LIMIT) throw new codes.FST_DEFAULT_DENY_MEMBERSHIP_LIMIT(String(limit))
      throw err
    }
    await sql`select set_config(${LIMIT_SETTING}, '', true)`.execute(trx)
    return result
  }

  async #audit (trx: Trx, group: string, member: MemberRef, before: string[], after: string[], context: WriteContext): Promise<void> {
    await this.#props.audit.append(trx, {
      action: 'member', grantee: member, target: { resource: this.#props.groupResource, id: group }, before, after
    }, context)
  }
}
