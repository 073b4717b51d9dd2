// What setting a grantee's privileges on a resource changes: pure, so the
// writer only carries it out. A grant is its privilege and its schedule, so
// a kept privilege whose dates move is a change like an added one.
import type { ScheduledPrivilege } from '../../fastify-plugin.js'

/** When a grant counts; `undefined` leaves a kept grant's date as it is. */
export interface ScheduleChange {
  expiresAt?: Date | null
  startsAt?: Date | null
}

export interface PrivilegesWanted extends ScheduleChange {
  privileges: readonly string[]
  /** Limits the change to these privileges: adding one is `{ privileges: [p], only: [p] }`. */
  only?: readonly string[]
  /** A schedule of its own for some privileges, in place of `expiresAt` and `startsAt`. */
  schedules?: ReadonlyMap<string, ScheduleChange>
}

export interface GrantPlan {
  remove: string[]
  add: ScheduledPrivilege[]
  /** Kept privileges with their new dates. */
  reschedule: ScheduledPrivilege[]
  /** Every grant after the change, by privilege. */
  after: ScheduledPrivilege[]
  /** Removed, added or rescheduled, sorted: empty when nothing changes. */
  changed: string[]
}

const time = (value: Date | null) => value?.getTime() ?? null
const byPrivilege = (a: { privilege: string }, b: { privilege: string }) => a.privilege < b.privilege ? -1 : a.privilege > b.privilege ? 1 : 0

/** `held`: the grantee's grants on the resource now. */
export function planGrants (held: readonly ScheduledPrivilege[], wanted: PrivilegesWanted): GrantPlan {
  const scope = wanted.only === undefined ? null : new Set(wanted.only)
  const want = new Set(wanted.privileges)
  const heldNames = new Set(held.map((g) => g.privilege))
  const planned = (privilege: string, current?: ScheduledPrivilege): ScheduledPrivilege => {
    const own = wanted.schedules?.get(privilege)
    const expiresAt = own?.expiresAt !== undefined ? own.expiresAt : wanted.expiresAt
    const startsAt = own?.startsAt !== undefined ? own.startsAt : wanted.startsAt
    return {
      privilege,
      expiresAt: expiresAt === undefined ? current?.expiresAt ?? null : expiresAt,
      startsAt: startsAt === undefined ? current?.startsAt ?? null : startsAt
    }
  }
  const remove = held.filter((g) => !want.has(g.privilege) && (scope === null || scope.has(g.privilege))).map((g) => g.privilege)
  const add = [...want].filter((p) => !heldNames.has(p)).map((p) => planned(p))
  const reschedule = held.flatMap((current) => {
    if (!want.has(current.privilege)) return []
    const next = planned(current.privilege, current)
    return time(next.expiresAt) === time(current.expiresAt) && time(next.startsAt) === time(current.startsAt) ? [] : [next]
  })
  const after = new Map(held.filter((g) => !remove.includes(g.privilege)).map((g) => [g.privilege, g]))
  for (const grant of [...add, ...reschedule]) after.set(grant.privilege, grant)
  return {
    remove,
    add,
    reschedule,
    after: [...after.values()].sort(byPrivilege),
    changed: [...remove, ...add.map((g) => g.privilege), ...reschedule.map((g) => g.privilege)].sort()
  }
}
