// The membership use cases: add and remove a stored group's members, list
// them, and say which groups a principal is in. A group's members change
// through the same runner as its grants: for an actor, only someone who may
// manage `{ resource: groupResource, id: group }` changes them, inside a
// transaction that holds the group's lock.
import type { Kysely } from 'kysely'
import type { GroupPath, MemberRef, Membership, Principal } from '../../fastify-plugin.js'
import type { Policy } from '../decision/policy.js'
import { codes } from '../errors.js'
import type { GroupOptions } from '../options/index.js'
import type { WriteContext } from '../store/audit.js'
import type { MembershipStore } from '../store/members.js'
import type { GrantWriter } from '../store/writer.js'
import { ChangeRunner, type Caller, type ChangeSink, type Instance, type Outcome, type RunnerSettings } from './runner.js'
import type { Observer } from '../observability/index.js'

export interface MembershipServiceProps {
  readonly members: MembershipStore
  readonly writer: GrantWriter
  readonly policy: Policy
  readonly settings: RunnerSettings & GroupOptions
  readonly changed?: ChangeSink | null
  readonly observer?: Observer | null
}

export class MembershipService {
  readonly #members: MembershipStore
  readonly #runner: ChangeRunner
  readonly #resource: string
  readonly #limit: number
  /** false with `groupDepth: 0`: memberships would never count, so none are written. */
  readonly stored: boolean

  constructor (props: MembershipServiceProps) {
    this.#members = props.members
    this.#runner = new ChangeRunner(props)
    this.#resource = props.settings.groupResource
    this.#limit = props.settings.maxMembershipChange
    this.stored = props.settings.groupDepth > 0
  }

  /** The resource that stands for `group` in grants, locks and the audit trail. */
  ref (group: string): Instance {
    return { resource: this.#resource, id: group }
  }

  async add (caller: Caller, group: string, member: MemberRef, context: WriteContext): Promise<Outcome<boolean>> {
    this.#mustBeStored()
    const added = await this.#runner.run('add_member', caller, [this.ref(group)], async (trx) => await this.#members.add(trx, group, member, context, this.#limit))
    this.#runner.changed()?.subjects([member])
    return added
  }

  async remove (caller: Caller, group: string, member: MemberRef, context: WriteContext): Promise<Outcome<boolean>> {
    this.#mustBeStored()
    const removed = await this.#runner.run('remove_member', caller, [this.ref(group)], async (trx) => await this.#members.remove(trx, group, member, context, this.#limit))
    this.#runner.changed()?.subjects([member])
    return removed
  }

  #mustBeStored (): void {
    if (!this.stored) throw new codes.FST_DEFAULT_DENY_INVALID_GRANT('stored groups are off (groupDepth: 0)')
  }

  async list (group: string, db?: Kysely<any>): Promise<Membership[]> {
    return await this.#members.list(group, db)
  }

  async groupsOf (principal: Principal, db?: Kysely<any>): Promise<GroupPath[]> {
    return await this.#members.groupsOf(principal, db)
  }
}
