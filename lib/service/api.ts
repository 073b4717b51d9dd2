// The service API (`fastify.permissions`): validation, eligibility and the
// audit context around the grant store. Trusted host code calls it directly;
// the HTTP API adds its own authorization on top.
import type { Kysely } from 'kysely'
import type {
  DefaultDenyApi, GranteeRef, Principal, ResourceRef, ServiceCallOptions
} from '../../fastify-plugin.js'
import { DeadlineExceeded, withBudget } from '../store/deadline.js'
import { decide } from '../decision/decide.js'
import { explain } from '../decision/explain.js'
import type { Policy } from '../decision/policy.js'
import { codes } from '../errors.js'
import type { GrantStore, WriteContext } from '../store/grant-store.js'
import { isSeq, isValidId, isValidText, MAX_REASON_LENGTH, MAX_REQUEST_ID_LENGTH } from '../decision/ids.js'
import type { Settings } from '../options.js'
import { ANONYMOUS } from '../decision/principal.js'
import type { RulesLayer } from '../rules/reloader.js'

const invalid = (message: string): never => { throw new codes.FST_DEFAULT_DENY_INVALID_GRANT(message) }

export interface Validators {
  target: (input: unknown, allowTypeLevel?: boolean) => ResourceRef
  grantee: (grantee: unknown) => GranteeRef
  privilege: (privilege: unknown) => string
  expiresAt: (value: unknown) => Date | null
  eligible: (grantee: GranteeRef, privilege: string, target: ResourceRef) => Promise<void>
}

export function createValidators (settings: Settings): Validators {
  const id = (value: unknown) => isValidId(value, settings.maxIdLength)
  return {
    target (input, allowTypeLevel = true) {
      if (typeof input !== 'object' || input === null) return invalid('expected an object')
      const { resource, id: resourceId } = input as Record<string, unknown>
      if (!id(resource)) invalid('resource must be a valid id')
      if (resourceId === null ? !allowTypeLevel : !id(resourceId)) invalid(allowTypeLevel ? 'id must be a valid id or null' : 'id must be a valid id')
      return { resource: resource as string, id: resourceId as string | null }
    },
    grantee (grantee) {
      if (typeof grantee !== 'object' || grantee === null) return invalid('grantee must be an object')
      const { kind, id: granteeId } = grantee as Record<string, unknown>
      if (kind === 'anonymous') return { kind }
      if (kind !== 'user' && kind !== 'group') return invalid("grantee.kind must be 'user', 'group' or 'anonymous'")
      if (!id(granteeId)) invalid('grantee.id must be a valid id')
      return { kind, id: granteeId as string }
    },
    privilege (privilege) {
      if (typeof privilege !== 'string' || !settings.privileges.has(privilege)) invalid('unknown privilege')
      return privilege as string
    },
    expiresAt (value) {
      if (value === undefined || value === null) return null
      if (!(value instanceof Date) || !Number.isFinite(value.getTime())) invalid('expiresAt must be a valid Date')
      return value as Date
    },
    async eligible (grantee, privilege, target) {
      if (grantee.kind === 'anonymous' && !settings.anonymousPrivileges.has(privilege)) {
        throw new codes.FST_DEFAULT_DENY_INELIGIBLE()
      }
      const canHold = settings.canHold
      if (typeof canHold === 'function' && await canHold(grantee, privilege as never, target) !== true) {
        throw new codes.FST_DEFAULT_DENY_INELIGIBLE()
      }
    }
  }
}

export function writeContext (options: ServiceCallOptions | undefined, fallbackActor: unknown, maxIdLength: number): WriteContext {
  const actor = options?.actor ?? fallbackActor ?? null
  if (actor !== null && !isValidId(actor, maxIdLength)) invalid('actor must be a valid id')
  // Reason and request id are hashed into the audit trail: they must come
  // back from PostgreSQL exactly as sent (no NUL, no lone surrogate).
  const reason = options?.reason ?? null
  if (reason !== null && !isValidText(reason, MAX_REASON_LENGTH)) {
    invalid(`reason must be well-formed text of at most ${MAX_REASON_LENGTH} characters without NUL`)
  }
  const requestId = options?.requestId ?? null
  if (requestId !== null && !isValidText(requestId, MAX_REQUEST_ID_LENGTH)) {
    invalid(`requestId must be well-formed text of at most ${MAX_REQUEST_ID_LENGTH} characters without NUL`)
  }
  return { actor: actor as string | null, reason, requestId }
}

export function createApi (settings: Settings, store: GrantStore, policy: Policy, rules: RulesLayer | null): DefaultDenyApi {
  const check = createValidators(settings)
  const db = (options?: ServiceCallOptions): Kysely<any> | undefined => options?.db
  const instance = (input: unknown) => check.target(input, false) as ResourceRef & { id: string }

  // Inside a host transaction the host owns the time limits; otherwise a
  // write is bounded like a grant-API write.
  async function write<T> (options: ServiceCallOptions | undefined, targets: ResourceRef[], work: (trx: Kysely<any>) => Promise<T>): Promise<T> {
    const given = db(options)
    if (given?.isTransaction === true) return await store.write(given, targets, work)
    try {
      return await withBudget(settings.writeTimeout, async (budget) => await store.write(given, targets, work, budget))
    } catch (err) {
      if (!(err instanceof DeadlineExceeded)) throw err
      const unavailable = new codes.FST_DEFAULT_DENY_UNAVAILABLE()
      unavailable.cause = err
      throw unavailable
    }
  }

  return {
    async check (principal: Principal, target, options) {
      const ref = check.target(target)
      const privilege = check.privilege(target.privilege)
      if (principal.superuser) return true
      const facts = await store.facts(principal, ref, db(options))
      return decide(principal, { kind: 'resource', resource: ref.resource, privilege }, facts, policy) === 'allow'
    },
    async grant (input, options) {
      const target = check.target(input)
      const grantee = check.grantee(input.grantee)
      const privilege = check.privilege(input.privilege)
      const expiresAt = check.expiresAt(input.expiresAt)
      const context = writeContext(options, input.grantedBy, settings.maxIdLength)
      await check.eligible(grantee, privilege, target)
      const { before } = await write(options, [target], async (trx) =>
        await store.setPrivileges(trx, { target, grantee, privileges: [privilege], only: [privilege], expiresAt }, context))
      return { created: !before.includes(privilege) }
    },
    async revoke (input, options) {
      const target = check.target(input)
      const grantee = check.grantee(input.grantee)
      const privilege = check.privilege(input.privilege)
      const context = writeContext(options, null, settings.maxIdLength)
      const { before } = await write(options, [target], async (trx) =>
        await store.setPrivileges(trx, { target, grantee, privileges: [], only: [privilege] }, context))
      return { removed: before.includes(privilege) }
    },
    async replace (input, options) {
      const target = check.target(input)
      const grantee = check.grantee(input.grantee)
      if (!Array.isArray(input.privileges)) invalid('privileges must be an array')
      const privileges = input.privileges.map((p) => check.privilege(p))
      const expiresAt = check.expiresAt(input.expiresAt)
      const context = writeContext(options, null, settings.maxIdLength)
      for (const privilege of privileges) await check.eligible(grantee, privilege, target)
      return await write(options, [target], async (trx) =>
        await store.setPrivileges(trx, { target, grantee, privileges, expiresAt }, context))
    },
    async listGrants (target, options) {
      return await store.listGrants(check.target(target), db(options))
    },
    async setOwner (target, options) {
      const ref = instance(target)
      if (target.owner !== null && !isValidId(target.owner, settings.maxIdLength)) invalid('owner must be a valid id or null')
      const context = writeContext(options, null, settings.maxIdLength)
      await write(options, [ref], async (trx) => { await store.setOwner(trx, { ...ref, owner: target.owner }, context) })
    },
    async getOwner (target, options) {
      if (!isValidId(target.resource, settings.maxIdLength) || !isValidId(target.id, settings.maxIdLength)) return null
      return await store.getOwner(target, db(options))
    },
    async forgetResource (target, options) {
      const ref = instance(target)
      const context = writeContext(options, null, settings.maxIdLength)
      await write(options, [ref], async (trx) => { await store.forgetResource(trx, ref, context) })
    },
    async explain (principal, target, options) {
      const ref = check.target(target)
      const asked = target.privilege === undefined ? null : check.privilege(target.privilege)
      const [sources, owner] = await Promise.all([
        store.sources(principal, ref, db(options)),
        ref.id === null ? null : store.getOwner(ref as ResourceRef & { id: string }, db(options))
      ])
      return explain(principal, sources, owner, policy, asked)
    },
    async audit (filter = {}, options) {
      const limit = filter.limit ?? 50
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) invalid('limit must be an integer from 1 to 1000')
      if (filter.before !== undefined && !isSeq(filter.before)) invalid('before must be an entry seq')
      return await store.listAudit({
        limit,
        before: filter.before,
        resource: filter.resource === undefined ? undefined : check.target(filter.resource),
        grantee: filter.grantee === undefined ? undefined : check.grantee(filter.grantee)
      }, db(options))
    },
    async verifyAudit (options) {
      return await store.verifyAudit(db(options))
    },
    async reloadRules (source?: unknown) {
      if (rules === null) throw new codes.FST_DEFAULT_DENY_INVALID_RULES('rules: no endpoint rules are configured')
      rules.reload(source)
    },
    rulesStatus () {
      return rules === null ? null : rules.status
    },
    anonymous: ANONYMOUS,
    notFound: () => new codes.FST_DEFAULT_DENY_NOT_FOUND()
  }
}
