// The grant use cases (grant, revoke, replace, the whole set, bulk, owner),
// shared by the service API, the grant routes and the tools to come. A change
// is made either for trusted host code, or on behalf of an actor, in which
// case who may do what is decided inside the write transaction against
// locked rows, and no change may leave a managed resource without a manager.
import type { Kysely } from 'kysely'
import type { GranteeRef, Principal, ResourceRef } from '../../fastify-plugin.js'
import type { Facts } from '../decision/decide.js'
import { mayChange, mayManage } from '../decision/manage.js'
import { levelAllows, MANAGE, managingPrivileges, type Policy } from '../decision/policy.js'
import { codes, deniedError } from '../errors.js'
import type { Settings } from '../options.js'
import type { AuditLog, WriteContext } from '../store/audit.js'
import { DeadlineExceeded, withBudget } from '../store/deadline.js'
import type { GrantReader } from '../store/reader.js'
import type { Trx } from '../store/scope.js'
import type { GrantWriter } from '../store/writer.js'
import type { Validators } from './validation.js'

export type Instance = ResourceRef & { id: string }

export interface Log {
  info: (details: object, message: string) => void
}

/** Host code calling the service API: no authorization, optionally inside its transaction. */
export interface Trusted {
  kind: 'trusted'
  db?: Kysely<any>
}

/** A principal changing grants through the grant API, at its request's level. */
export interface Actor {
  kind: 'actor'
  principal: Principal
  level: string | null
  log: Log
}

export type Caller = Trusted | Actor

/** One grantee's privileges before and after a change. */
export interface ChangeResult {
  grantee: GranteeRef
  before: string[]
  after: string[]
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

export type GrantSettings = Pick<Settings,
  'hideForbidden' | 'checkTimeout' | 'writeTimeout' | 'levelPrivileges' | 'allowManageDelegation' | 'resourceExists'>

export interface GrantServiceProps {
  readonly reader: GrantReader
  readonly writer: GrantWriter
  readonly audit: AuditLog
  readonly policy: Policy
  readonly settings: GrantSettings
  readonly validators: Validators
}

/** Refuses, with FST_DEFAULT_DENY_ESCALATION, a privilege the actor may not give or take. */
type Authorize = (ref: ResourceRef, privileges: Iterable<string>) => void

const keyOf = (ref: ResourceRef) => `${ref.resource}/${ref.id ?? ''}`
const difference = (a: string[], b: string[]) => [...a.filter((p) => !b.includes(p)), ...b.filter((p) => !a.includes(p))]

export class GrantService {
  readonly #props: GrantServiceProps
  readonly #managing: string[]

  constructor (props: GrantServiceProps) {
    this.#props = Object.freeze({ ...props })
    this.#managing = [...managingPrivileges(props.policy)]
  }

  /**
   * The facts of `ref` for an actor who wants to read its grants: the same
   * people who may change them. Bounded like a check.
   */
  async mustManage (actor: Actor, ref: Instance, db?: Kysely<any>): Promise<Facts> {
    const { settings, reader, policy } = this.#props
    const facts = actor.principal.superuser
      ? { owner: null, privileges: [] }
      : await withBudget(settings.checkTimeout, async (budget) => await reader.facts(actor.principal, ref, db, budget))
    if (!mayManage(actor.principal, facts, policy)) {
      actor.log.info({ actor: actor.principal.id, resource: ref.resource }, 'fastify-default-deny: not a manager')
      throw deniedError(settings.hideForbidden)
    }
    return facts
  }

  async grant (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef, privilege: string } & Schedule, context: WriteContext): Promise<ChangeResult> {
    const { target, grantee, privilege, expiresAt, startsAt } = change
    await this.#props.validators.eligible(grantee, privilege, target)
    return await this.#run(caller, [target], async (trx, authorize) => {
      authorize(target, [privilege])
      return { grantee, ...await this.#props.writer.setPrivileges(trx, { target, grantee, privileges: [privilege], only: [privilege], expiresAt, startsAt }, context) }
    })
  }

  async revoke (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef, privilege: string }, context: WriteContext): Promise<ChangeResult> {
    const { target, grantee, privilege } = change
    return await this.#run(caller, [target], async (trx, authorize) => {
      authorize(target, [privilege])
      return { grantee, ...await this.#props.writer.setPrivileges(trx, { target, grantee, privileges: [], only: [privilege] }, context) }
    })
  }

  /** Makes `grantee` hold exactly `privileges` on the target. */
  async replace (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef, privileges: string[] } & Schedule, context: WriteContext): Promise<ChangeResult> {
    const { target, grantee, privileges, expiresAt, startsAt } = change
    const { writer, validators } = this.#props
    for (const privilege of privileges) await validators.eligible(grantee, privilege, target)
    return await this.#run(caller, [target], async (trx, authorize) => {
      if (caller.kind === 'actor') authorize(target, difference(await writer.explicitPrivileges(trx, target, grantee), privileges))
      return { grantee, ...await writer.setPrivileges(trx, { target, grantee, privileges, expiresAt, startsAt }, context) }
    })
  }

  /** Takes every privilege `grantee` holds explicitly on the target. */
  async revokeAll (caller: Caller, change: { target: ResourceRef, grantee: GranteeRef }, context: WriteContext): Promise<ChangeResult> {
    const { target, grantee } = change
    const { writer } = this.#props
    return await this.#run(caller, [target], async (trx, authorize) => {
      authorize(target, await writer.explicitPrivileges(trx, target, grantee))
      return { grantee, ...await writer.setPrivileges(trx, { target, grantee, privileges: [] }, context) }
    })
  }

  /**
   * Makes the explicit grants on the target exactly `items`: grantees not
   * named lose everything. Returns the grantees whose privileges changed.
   */
  async replaceAll (caller: Caller, target: ResourceRef, items: WholeSetItem[], context: WriteContext): Promise<ChangeResult[]> {
    const { writer, validators } = this.#props
    const wanted = new Map<string, { grantee: GranteeRef, items: WholeSetItem[] }>()
    for (const item of items) {
      const key = JSON.stringify(item.grantee)
      const entry = wanted.get(key) ?? { grantee: item.grantee, items: [] }
      entry.items.push(item)
      wanted.set(key, entry)
      await validators.eligible(item.grantee, item.privilege, target)
    }
    return await this.#run(caller, [target], async (trx, authorize) => {
      for (const grantee of await writer.grantees(trx, target)) {
        const key = JSON.stringify(grantee)
        if (!wanted.has(key)) wanted.set(key, { grantee, items: [] })
      }
      const results: ChangeResult[] = []
      for (const { grantee, items } of wanted.values()) {
        const privileges = [...new Set(items.map((i) => i.privilege))]
        authorize(target, difference(await writer.explicitPrivileges(trx, target, grantee), privileges))
        // Usually every item of a grantee has the same schedule: one call sets
        // the privileges and that schedule. Otherwise each is set after.
        const schedules = new Set(items.map((i) => `${i.expiresAt?.getTime() ?? ''}/${i.startsAt?.getTime() ?? ''}`))
        const first = items[0]
        const shared = schedules.size === 1 && first !== undefined
          ? { expiresAt: first.expiresAt, startsAt: first.startsAt }
          : { expiresAt: undefined, startsAt: undefined }
        const result = await writer.setPrivileges(trx, { target, grantee, privileges, ...shared }, context)
        if (schedules.size > 1) {
          for (const item of items) {
            await writer.setPrivileges(trx, { target, grantee, privileges: [item.privilege], only: [item.privilege], expiresAt: item.expiresAt, startsAt: item.startsAt }, context)
          }
        }
        if (result.before.join() !== result.after.join()) results.push({ grantee, ...result })
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
  ): Promise<ChangeResult[]> {
    const { writer, validators } = this.#props
    for (const item of grants) await validators.eligible(item.grantee, item.privilege, item.target)
    return await this.#run(caller, [...grants, ...revokes].map((item) => item.target), async (trx, authorize) => {
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
   * Hands the resource to `owner` (or to no one). An actor must be its owner
   * or a superuser: managers cannot take ownership.
   */
  async setOwner (caller: Caller, target: Instance, owner: string | null, context: WriteContext): Promise<{ owner: string | null, before: string | null }> {
    const { writer } = this.#props
    return await this.#run(caller, [target], async (trx) => {
      const before = await writer.owner(trx, target)
      if (caller.kind === 'actor' && !caller.principal.superuser && before !== caller.principal.id) {
        throw new codes.FST_DEFAULT_DENY_ESCALATION()
      }
      await writer.setOwner(trx, { ...target, owner }, context)
      return { owner, before }
    })
  }

  /**
   * Deletes expired grants in batches of `batchSize`, each in its own short
   * transaction, and records the purge as one audit entry (resource `''`,
   * `before` the count). Expired grants never count anyway: this only keeps
   * the table small. Host code only.
   */
  async purgeExpired (caller: Trusted, batchSize: number, context: WriteContext): Promise<number> {
    const { writer, audit } = this.#props
    let purged = 0
    for (;;) {
      const deleted = await this.#run(caller, [], async (trx) => await writer.purgeExpired(trx, batchSize))
      purged += deleted
      if (deleted < batchSize) break
    }
    if (purged > 0) {
      await this.#run(caller, [], async (trx) => {
        await audit.append(trx, { action: 'purge', grantee: null, target: { resource: '', id: null }, before: [String(purged)], after: [] }, context)
      })
    }
    return purged
  }

  /** Drops every grant on the resource and its owner: host code only. */
  async forgetResource (caller: Trusted, target: Instance, context: WriteContext): Promise<void> {
    await this.#run(caller, [target], async (trx) => { await this.#props.writer.forgetResource(trx, target, context) })
  }

  async #run<T> (caller: Caller, refs: ResourceRef[], work: (trx: Trx, authorize: Authorize) => Promise<T>): Promise<T> {
    return caller.kind === 'trusted'
      ? await this.#runTrusted(caller, refs, work)
      : await this.#runAsActor(caller, refs as Instance[], work)
  }

  // Inside a host transaction the host owns the time limits; otherwise a
  // write is bounded like a grant-API write.
  async #runTrusted<T> (caller: Trusted, refs: ResourceRef[], work: (trx: Trx, authorize: Authorize) => Promise<T>): Promise<T> {
    const { writer, settings } = this.#props
    const unchecked: Authorize = () => {}
    if (caller.db?.isTransaction === true) return await writer.write(caller.db, refs, async (trx) => await work(trx, unchecked))
    try {
      return await withBudget(settings.writeTimeout, async (budget) =>
        await writer.write(caller.db, refs, async (trx) => await work(trx, unchecked), budget))
    } catch (err) {
      if (!(err instanceof DeadlineExceeded)) throw err
      const unavailable = new codes.FST_DEFAULT_DENY_UNAVAILABLE()
      unavailable.cause = err
      throw unavailable
    }
  }

  /**
   * Runs a change on `refs` in one transaction: locks the resources and the
   * actor's own rights, checks the actor may manage each, lets `work` change
   * things (calling `authorize` with every privilege it adds or removes), and
   * refuses to leave a resource that had a manager without one.
   */
  async #runAsActor<T> (actor: Actor, refs: Instance[], work: (trx: Trx, authorize: Authorize) => Promise<T>): Promise<T> {
    const { settings, writer, policy } = this.#props
    await this.#mustExist(refs)
    // A request the endpoint rules demoted (say, to reader) changes no grants.
    if (!levelAllows(settings.levelPrivileges, actor.level, MANAGE)) {
      actor.log.info({ level: actor.level }, 'fastify-default-deny: grant change above the request\'s level')
      throw deniedError(settings.hideForbidden)
    }
    const { principal } = actor
    // Bounded like a check: a stalled database or a locked table answers 503
    // and the transaction rolls back; it never commits after that answer.
    return await withBudget(settings.writeTimeout, async (budget) => await writer.write(undefined, refs, async (trx) => {
      const factsByKey = new Map<string, Facts>()
      const managersBefore = new Map<string, number>()
      for (const ref of refs) {
        const key = keyOf(ref)
        if (factsByKey.has(key)) continue
        const facts = await writer.lockedFacts(trx, principal, ref)
        if (!mayManage(principal, facts, policy)) {
          actor.log.info({ actor: principal.id, resource: ref.resource }, 'fastify-default-deny: not a manager')
          throw deniedError(settings.hideForbidden)
        }
        factsByKey.set(key, facts)
        managersBefore.set(key, await writer.managerCount(trx, ref, this.#managing))
      }
      const authorize: Authorize = (ref, privileges) => {
        const facts = factsByKey.get(keyOf(ref)) as Facts
        for (const privilege of privileges) {
          if (mayChange(principal, facts, privilege, policy, settings.allowManageDelegation) !== 'allow') {
            actor.log.info({ actor: principal.id, privilege }, 'fastify-default-deny: escalation refused')
            throw new codes.FST_DEFAULT_DENY_ESCALATION()
          }
        }
      }
      const result = await work(trx, authorize)
      for (const ref of refs) {
        const key = keyOf(ref)
        if ((managersBefore.get(key) ?? 0) > 0 && await writer.managerCount(trx, ref, this.#managing) === 0) {
          throw new codes.FST_DEFAULT_DENY_LAST_MANAGER()
        }
      }
      return result
    }, budget))
  }

  async #mustExist (targets: Instance[]): Promise<void> {
    const exists = this.#props.settings.resourceExists
    if (typeof exists !== 'function') return
    for (const t of targets) {
      if (await exists(t.resource, t.id) !== true) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    }
  }
}
