// How a change runs: for trusted host code (optionally inside its
// transaction), or on behalf of an actor, deciding who may do what inside the
// write transaction against locked rows and refusing to leave a managed
// resource without a manager.
import type { Kysely } from 'kysely'
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import type { Facts } from '../decision/decide.js'
import { mayChange, mayManage } from '../decision/manage.js'
import { levelAllows, MANAGE, managingPrivileges, type Policy } from '../decision/policy.js'
import { codes, deniedError } from '../errors.js'
import type { Observer } from '../observability/index.js'
import type { EnforcementOptions, GrantOptions, LevelOptions } from '../options/index.js'
import { DeadlineExceeded, withBudget } from '../store/deadline.js'
import type { Trx } from '../store/scope.js'
import type { GrantWriter } from '../store/writer.js'

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

/**
 * What a change answered, and the revision it committed at: what a later
 * read presents to see it. `null` inside a host transaction (it commits
 * later) or when reading the revision failed after the commit.
 */
export interface Outcome<T> {
  result: T
  revision: bigint | null
}

/** Refuses, with FST_DEFAULT_DENY_ESCALATION, a privilege the actor may not give or take. */
export type Authorize = (ref: ResourceRef, privileges: Iterable<string>) => void

export type RunnerSettings = Pick<EnforcementOptions, 'hideForbidden' | 'writeTimeout'> & Pick<LevelOptions, 'levelPrivileges'> &
Pick<GrantOptions, 'allowManageDelegation' | 'resourceExists'>

/**
 * Told of each change once it has committed, or, inside a host transaction,
 * once it is made (the database's notification at commit covers that case):
 * the decision cache.
 */
export interface ChangeSink {
  resources: (refs: readonly ResourceRef[]) => void
  subjects: (members: ReadonlyArray<{ kind: 'user' | 'group', id: string }>) => void
  /**
   * Rows a change wrote beyond what its refs name (expired grants purged, the
   * paths a move's step rewrote): counted by the embedded database's upkeep;
   * the refs already told the cache what to drop.
   */
  rows?: (count: number) => void
}

/** One sink telling each of `sinks` (null when none is left). */
export function joinSinks (...sinks: Array<ChangeSink | null>): ChangeSink | null {
  const present = sinks.filter((sink): sink is ChangeSink => sink !== null)
  if (present.length <= 1) return present[0] ?? null
  return {
    resources: (refs) => { for (const sink of present) sink.resources(refs) },
    subjects: (members) => { for (const sink of present) sink.subjects(members) },
    rows: (count) => { for (const sink of present) sink.rows?.(count) }
  }
}

export interface RunnerProps {
  readonly writer: GrantWriter
  readonly policy: Policy
  readonly settings: RunnerSettings
  readonly changed?: ChangeSink | null
  /** Told of every change, done or refused. */
  readonly observer?: Observer | null
}

const keyOf = (ref: ResourceRef) => `${ref.resource}/${ref.id ?? ''}`

export class ChangeRunner {
  readonly #props: RunnerProps
  readonly #managing: string[]
  // A manager above counts only through paths that pass `manage` down.
  readonly #blocked: readonly string[]

  constructor (props: RunnerProps) {
    this.#props = Object.freeze({ writer: props.writer, policy: props.policy, settings: props.settings, changed: props.changed ?? null, observer: props.observer ?? null })
    this.#managing = [...managingPrivileges(props.policy)]
    this.#blocked = props.policy.blocked?.get(MANAGE) ?? []
  }

  /**
   * Runs `work` (the use case `action`) on `refs` in one transaction, as
   * `caller` may; then `then`, the rest of the change in transactions of its
   * own (`step`); then tells the sink the refs changed. The revision covers
   * both.
   */
  async run<T> (
    action: string, caller: Caller, refs: ResourceRef[], work: (trx: Trx, authorize: Authorize) => Promise<T>, then?: (result: T) => Promise<void>
  ): Promise<Outcome<T>> {
    const started = performance.now()
    const actor = caller.kind === 'actor' ? caller.principal.id : null
    let result: T
    try {
      result = caller.kind === 'trusted'
        ? await this.#trusted(caller, refs, work)
        : await this.#asActor(caller, refs as Instance[], work)
      if (then !== undefined) await then(result)
    } catch (err) {
      this.#props.observer?.change(action, refs, started, null, actor, err)
      throw err
    }
    if (refs.length > 0) this.#props.changed?.resources(refs)
    const revision = await this.#revision(caller)
    this.#props.observer?.change(action, refs, started, revision, actor, undefined)
    return { result, revision }
  }

  // The change has committed: a failure to read its revision must not make
  // it look failed. The caller then has no revision to present.
  async #revision (caller: Caller): Promise<bigint | null> {
    const db = caller.kind === 'trusted' ? caller.db : undefined
    if (db?.isTransaction === true) return null
    try {
      return await this.#props.writer.position(db)
    } catch {
      return null
    }
  }

  /**
   * One more transaction of a change `run` has authorized and committed,
   * bounded like a write: on the caller's database (never inside its
   * transaction: a change that runs in steps runs them only outside one).
   */
  async step<T> (caller: Caller, work: (trx: Trx) => Promise<T>): Promise<T> {
    const db = caller.kind === 'trusted' && caller.db?.isTransaction !== true ? caller.db : undefined
    return await this.#trusted({ kind: 'trusted', db }, [], async (trx) => await work(trx))
  }

  /** Tells the sink of a change `run` could not name by its refs. */
  changed (): ChangeSink | null {
    return this.#props.changed ?? null
  }

  // Inside a host transaction the host owns the time limits; otherwise a
  // write is bounded like a grant-API write.
  async #trusted<T> (caller: Trusted, refs: ResourceRef[], work: (trx: Trx, authorize: Authorize) => Promise<T>): Promise<T> {
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
  async #asActor<T> (actor: Actor, refs: Instance[], work: (trx: Trx, authorize: Authorize) => Promise<T>): Promise<T> {
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
        managersBefore.set(key, await writer.managerCount(trx, ref, this.#managing, this.#blocked))
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
        if ((managersBefore.get(key) ?? 0) > 0 && await writer.managerCount(trx, ref, this.#managing, this.#blocked) === 0) {
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
