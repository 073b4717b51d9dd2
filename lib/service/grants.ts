// The grant use cases (grant, revoke, replace, the whole set, bulk, owner,
// purge), shared by the service API, the grant routes and the tools to come.
// Each runs through the ChangeRunner, for trusted host code or on behalf of
// an actor (see runner.ts).
import type { Kysely } from 'kysely'
import type { GranteeRef, ResourceRef } from '../../fastify-plugin.js'
import type { Facts } from '../decision/decide.js'
import { mayHandOver, mayManage } from '../decision/manage.js'
import { overrides } from '../decision/rule.js'
import type { Policy } from '../decision/policy.js'
import { codes, deniedError } from '../errors.js'
import type { EnforcementOptions, GrantOptions, HierarchySettings, LevelOptions } from '../options/index.js'
import type { AuditLog, WriteContext } from '../store/audit.js'
import { withBudget } from '../store/deadline.js'
import type { GrantReader } from '../store/reader.js'
import type { TreeStore } from '../store/tree.js'
import type { GrantChange, GrantWriter } from '../store/writer.js'
import { moveResource, refuseMove } from './moves.js'
import { ChangeRunner, type Actor, type Caller, type ChangeSink, type Instance, type Outcome, type Trusted } from './runner.js'
import type { Fail, Validators } from './validation.js'
import type { Observer } from '../observability/index.js'

export type { Actor, Caller, Instance, Log, Outcome, Trusted } from './runner.js'

/**
 * One grantee's privileges before and after a change, those whose grant
 * changed (added, taken, or rescheduled; empty: nothing changed), and each
 * grant's schedule before and after.
 */
export interface ChangeResult extends GrantChange {
  grantee: GranteeRef
}

export interface WholeSetItem extends Schedule {
  grantee: GranteeRef
  privilege: string
}

/** When a grant counts: from `startsAt` (null: now) until `expiresAt` (null: for good). */
export interface Schedule {
  expiresAt: Date | null
  startsAt: Date | null
}

export type GrantSettings = Pick<EnforcementOptions, 'hideForbidden' | 'checkTimeout' | 'writeTimeout'> &
Pick<LevelOptions, 'levelPrivileges'> & Pick<GrantOptions, 'allowManageDelegation' | 'resourceExists'>

export interface GrantServiceProps {
  readonly reader: GrantReader
  readonly writer: GrantWriter
  readonly audit: AuditLog
  readonly policy: Policy
  readonly settings: GrantSettings
  readonly validators: Validators
  readonly changed?: ChangeSink | null
  readonly observer?: Observer | null
  /** The `hierarchy` option; null: resources have no parents. */
  readonly hierarchy?: HierarchySettings | null
  readonly tree?: TreeStore
  /** How many resources below a moved one each step of a move rewrites (the option, or the database's default). */
  readonly moveStep: number
}

export class GrantService {
  readonly #props: GrantServiceProps
  readonly #runner: ChangeRunner

  constructor (props: GrantServiceProps) {
    this.#props = Object.freeze({ ...props })
    this.#runner = new ChangeRunner(props)
  }

  /**
   * The facts of `ref` for an actor who wants to read its grants: the same
   * people who may change them. Bounded like a check.
   */
  async mustManage (actor: Actor, ref: Instance, db?: Kysely<any>): Promise<Facts> {
    const { settings, reader, policy } = this.#props
    const facts = overrides(actor.principal)
      ? { owner: null, privileges: [] }
      : await withBudget(settings.checkTimeout, async (budget) => await reader.facts(actor.principal, ref, { db, budget }))
    if (!mayManage(actor.principal, facts, policy)) {
      actor.log.info({ actor: actor.principal.id, resource: ref.resource }, 'fastify-default-deny: not a manager')
      throw deniedError(settings.hideForbidden)
    }
    return facts
  }

  async grant (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef, privilege: string } & Schedule, context: WriteContext): Promise<Outcome<ChangeResult>> {
    const { target, grantee, privilege, expiresAt, startsAt } = change
    await this.#props.validators.eligible(grantee, privilege, target)
    return await this.#runner.run('grant', caller, [target], async (trx, authorize) => {
      authorize(target, [privilege])
      return { grantee, ...await this.#props.writer.setPrivileges(trx, { target, grantee, privileges: [privilege], only: [privilege], expiresAt, startsAt }, context) }
    })
  }

  async revoke (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef, privilege: string }, context: WriteContext): Promise<Outcome<ChangeResult>> {
    const { target, grantee, privilege } = change
    return await this.#runner.run('revoke', caller, [target], async (trx, authorize) => {
      authorize(target, [privilege])
      return { grantee, ...await this.#props.writer.setPrivileges(trx, { target, grantee, privileges: [], only: [privilege] }, context) }
    })
  }

  /** Makes `grantee` hold exactly `privileges` on the target. */
  async replace (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef, privileges: string[] } & Schedule, context: WriteContext): Promise<Outcome<ChangeResult>> {
    const { target, grantee, privileges, expiresAt, startsAt } = change
    const { writer, validators } = this.#props
    for (const privilege of privileges) await validators.eligible(grantee, privilege, target)
    return await this.#runner.run('replace', caller, [target], async (trx, authorize) => {
      const result = await writer.setPrivileges(trx, { target, grantee, privileges, expiresAt, startsAt }, context)
      // Rescheduling a kept privilege (extending it, say) is a change like
      // adding one: the actor must be allowed each. A refusal rolls back.
      authorize(target, result.changed)
      return { grantee, ...result }
    })
  }

  /** Takes every privilege `grantee` holds explicitly on the target. */
  async revokeAll (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef }, context: WriteContext): Promise<Outcome<ChangeResult>> {
    const { target, grantee } = change
    const { writer } = this.#props
    return await this.#runner.run('revoke_all', caller, [target], async (trx, authorize) => {
      const result = await writer.setPrivileges(trx, { target, grantee, privileges: [] }, context)
      authorize(target, result.changed)
      return { grantee, ...result }
    })
  }

  /**
   * Makes the explicit grants on the target exactly `items`: grantees not
   * named lose everything. Returns the grantees whose privileges changed.
   */
  async replaceAll (caller: Caller, target: ResourceRef, items: WholeSetItem[], context: WriteContext): Promise<Outcome<ChangeResult[]>> {
    const { writer, validators } = this.#props
    const wanted = new Map<string, { grantee: GranteeRef, items: WholeSetItem[] }>()
    for (const item of items) {
      const key = JSON.stringify(item.grantee)
      const entry = wanted.get(key) ?? { grantee: item.grantee, items: [] }
      entry.items.push(item)
      wanted.set(key, entry)
      await validators.eligible(item.grantee, item.privilege, target)
    }
    return await this.#runner.run('replace_all', caller, [target], async (trx, authorize) => {
      for (const grantee of await writer.grantees(trx, target)) {
        const key = JSON.stringify(grantee)
        if (!wanted.has(key)) wanted.set(key, { grantee, items: [] })
      }
      const results: ChangeResult[] = []
      for (const { grantee, items } of wanted.values()) {
        const privileges = [...new Set(items.map((i) => i.privilege))]
        const schedules = new Map(items.map((i) => [i.privilege, { expiresAt: i.expiresAt, startsAt: i.startsAt }]))
        const result = await writer.setPrivileges(trx, { target, grantee, privileges, schedules }, context)
        authorize(target, result.changed)
        if (result.changed.length > 0) results.push({ grantee, ...result })
      }
      return results
    })
  }

  /** Many grants and revokes on many resources, all or nothing. */
  async bulk (
    caller: Caller,
    grants: Array<{ target: Instance, grantee: GranteeRef, privilege: string } & Schedule>,
    revokes: Array<{ target: Instance, grantee: GranteeRef, privilege: string }>,
    context: WriteContext
  ): Promise<Outcome<ChangeResult[]>> {
    const { writer, validators } = this.#props
    for (const item of grants) await validators.eligible(item.grantee, item.privilege, item.target)
    return await this.#runner.run('bulk', caller, [...grants, ...revokes].map((item) => item.target), async (trx, authorize) => {
      const results: ChangeResult[] = []
      for (const { target, grantee, privilege, expiresAt, startsAt } of grants) {
        authorize(target, [privilege])
        results.push({ grantee, ...await writer.setPrivileges(trx, { target, grantee, privileges: [privilege], only: [privilege], expiresAt, startsAt }, context) })
      }
      for (const { target, grantee, privilege } of revokes) {
        authorize(target, [privilege])
        results.push({ grantee, ...await writer.setPrivileges(trx, { target, grantee, privileges: [], only: [privilege] }, context) })
      }
      return results
    })
  }

  /**
   * Many grants, all or nothing, under one lock on the grants table (see
   * `GrantWriter.lockGrants`) instead of one per resource. Host code only.
   * Returns, for each grant, whether it was created.
   */
  async grantMany (caller: Trusted, grants: Array<{ target: ResourceRef, grantee: GranteeRef, privilege: string, context: WriteContext } & Schedule>): Promise<Outcome<boolean[]>> {
    const { writer, validators } = this.#props
    for (const [index, { grantee, privilege, target }] of grants.entries()) {
      await validators.eligible(grantee, privilege, target).catch((err: Error) => { throw Object.assign(err, { index }) })
    }
    const outcome = await this.#runner.run('grant_many', caller, [], async (trx) => {
      await writer.lockGrants(trx)
      return await writer.grantMany(trx, grants)
    })
    this.#runner.changed()?.resources(grants.map((item) => item.target))
    return outcome
  }

  /**
   * Hands the resource to `owner` (or to no one). An actor must be its owner
   * or a superuser: managers cannot take ownership.
   */
  async setOwner (caller: Caller, target: Instance, owner: string | null, context: WriteContext): Promise<Outcome<{ owner: string | null, before: string | null }>> {
    const { writer } = this.#props
    return await this.#runner.run('set_owner', caller, [target], async (trx) => {
      const before = await writer.owner(trx, target)
      if (caller.kind === 'actor' && !mayHandOver(caller.principal, before)) {
        throw new codes.FST_DEFAULT_DENY_ESCALATION()
      }
      await writer.setOwner(trx, { ...target, owner }, context)
      return { owner, before }
    })
  }

  /**
   * Places `child` under `parent` (null: no parent), as the `hierarchy`
   * option allows. An actor must manage the child and, when there is one,
   * the new parent (rights held through ancestors count): moving something
   * into a place one does not manage is refused like a grant there.
   * Refusals (`fail`, by default FST_DEFAULT_DENY_INVALID_GRANT; `field`
   * `/parent` or `/parent/resource`): a parent type the option does not
   * allow for the child's, a cycle, a path longer than `maxDepth`. A move to
   * where the child already is writes nothing.
   */
  async setParent (
    caller: Caller, child: Instance, parent: Instance | null, context: WriteContext, fail: Fail = refuseMove
  ): Promise<Outcome<{ parent: Instance | null, before: Instance | null }>> {
    const { hierarchy = null, tree, moveStep } = this.#props
    if (hierarchy === null || tree === undefined) return fail('resources have no parents: set the hierarchy option to place one under another', '/parent')
    return await moveResource({ runner: this.#runner, tree, hierarchy, moveStep }, caller, child, parent, context, fail)
  }

  /**
   * Deletes expired grants in batches of `batchSize`, each in its own short
   * transaction with its audit entries (action `purge`, one per grantee and
   * resource), so no batch commits unaudited. Expired grants never count
   * anyway: this only keeps the table small. Host code only.
   */
  async purgeExpired (caller: Trusted, batchSize: number, context: WriteContext): Promise<Outcome<number>> {
    const { writer } = this.#props
    let purged = 0
    // Each batch commits on its own: the last revision read covers them all.
    let revision: bigint | null = null
    for (;;) {
      const batch = await this.#runner.run('purge_expired', caller, [], async (trx) => await writer.purgeExpired(trx, batchSize, context))
      this.#runner.changed()?.rows?.(batch.result)
      purged += batch.result
      revision = batch.revision ?? revision
      if (batch.result < batchSize) break
    }
    return { result: purged, revision }
  }

  /** Drops every grant on the resource and its owner: host code only. */
  async forgetResource (caller: Trusted, target: Instance, context: WriteContext): Promise<Outcome<void>> {
    return await this.#runner.run('forget_resource', caller, [target], async (trx) => { await this.#props.writer.forgetResource(trx, target, context) })
  }
}
