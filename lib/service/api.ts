// The service API (`fastify.permissions`): trusted host code calls the use
// cases directly, with its own transaction if it likes; input errors answer
// FST_DEFAULT_DENY_INVALID_GRANT with the reason.
import type { Kysely } from 'kysely'
import type { DefaultDenyApi, GrantInput, GrantRefusal, Principal, ServiceCallOptions } from '../../fastify-plugin.js'
import { ANONYMOUS } from '../decision/principal.js'
import { isSeq } from '../decision/ids.js'
import { codes } from '../errors.js'
import { formatRevision, presentedRevision } from '../revision.js'
import type { RulesLayer } from '../rules/reloader.js'
import type { GrantService, Instance, Trusted } from './grants.js'
import type { MembershipService } from './members.js'
import { fromChildCursor, type GrantQueries } from './queries.js'
import { treeMethods } from './api-tree.js'
import { viewMethods } from './api-views.js'
import { idColumn, invalidGrant, pageAfter, typeTarget } from './api-input.js'
import type { Validators } from './validation.js'

export { invalidGrant } from './api-input.js'

/** The most ids one `checkMany` call may ask about: a page of a list, not a table. */
export const MAX_CHECK_MANY = 10_000
/** The most grants one `grantMany` call takes: an import calls it once per chunk, inside one transaction. */
export const MAX_GRANT_MANY = 10_000

export interface ApiProps {
  readonly grants: GrantService
  readonly members: MembershipService
  readonly queries: GrantQueries
  /** Built with `invalidGrant`. */
  readonly validators: Validators
  readonly rules: RulesLayer | null
  /** The security self-check (lib/security/check.ts). */
  readonly security: Pick<DefaultDenyApi, 'checkSecurity' | 'routeManifest'>
  /** The decision cache's counters; `null` when the `cache` option is off. */
  readonly cacheStats: DefaultDenyApi['cacheStats']
  /** Empties the `tokenReuse` map; 0 when the option is off. */
  readonly forgetTokens: DefaultDenyApi['forgetTokens']
  /** The primary's position now. */
  readonly position: () => Promise<bigint>
  readonly replicaStats: DefaultDenyApi['replicaStats']
  readonly observability: Pick<DefaultDenyApi, 'metrics' | 'health'>
  /** What `access` asks about when no privilege is given: the first configured, as the grant API does. */
  readonly defaultPrivilege: string
}

type ReadMethods = Pick<DefaultDenyApi, 'check' | 'checkMany' | 'filter' | 'visible' | 'listIds' | 'listGrants' | 'scanGrants' | 'scanParents' | 'getOwner' | 'explain' | 'audit' | 'verifyAudit'>
type WriteMethods = Pick<DefaultDenyApi, 'grant' | 'grantMany' | 'validateGrants' | 'revoke' | 'replace' | 'setOwner' | 'setParent' | 'forgetResource' | 'purgeExpired'>
type MemberMethods = Pick<DefaultDenyApi, 'addMember' | 'removeMember' | 'listMembers' | 'groupsOf'>

const db = (options?: ServiceCallOptions): Kysely<any> | undefined => options?.db
/** Host code as the caller, optionally inside its transaction. */
const trusted = (options?: ServiceCallOptions): Trusted => ({ kind: 'trusted', db: options?.db })
/** The revision of a committed change as the answer carries it. */
const answered = (revision: bigint | null): string | null => revision === null ? null : formatRevision(revision)
const revisionOf = (options?: ServiceCallOptions): bigint | null => presentedRevision(options?.revision)
const contextOf = (check: Validators, options: ServiceCallOptions | undefined, fallbackActor: unknown = null) =>
  check.context({ actor: options?.actor ?? fallbackActor, reason: options?.reason, requestId: options?.requestId })

function readMethods ({ queries, validators: check }: ApiProps): ReadMethods {
  return {
    async check (principal: Principal, target, options) {
      const ref = check.target(target)
      check.knownType(ref.resource)
      const privilege = check.privilege(target.privilege)
      return await queries.check(principal, ref, privilege, db(options), revisionOf(options))
    },
    async checkMany (principal: Principal, target, options) {
      const { resource, privilege } = typeTarget(check, target)
      const ids: unknown = target.ids
      if (!Array.isArray(ids) || ids.length > MAX_CHECK_MANY) invalidGrant(`ids must be an array of at most ${MAX_CHECK_MANY} ids`, '/ids')
      if (!(ids as unknown[]).every(check.id)) invalidGrant('ids must all be non-empty strings without NUL or malformed Unicode', '/ids')
      return await queries.checkMany(principal, resource, ids as string[], privilege, db(options), revisionOf(options))
    },
    filter (principal: Principal, target, id) {
      const { resource, privilege } = typeTarget(check, target)
      return queries.filter(principal, resource, privilege, idColumn(id))
    },
    async visible (principal: Principal, target, id, options) {
      const { resource, privilege } = typeTarget(check, target)
      const after = pageAfter(check, options?.after)
      return await queries.visible(principal, resource, privilege, idColumn(id), after, db(options), revisionOf(options))
    },
    async listIds (principal: Principal, target, options) {
      const { resource, privilege } = typeTarget(check, target)
      const after = pageAfter(check, target.after)
      const limit = target.limit ?? 100
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) invalidGrant('limit must be an integer from 1 to 1000', '/limit')
      return await queries.listIds(principal, resource, privilege, after, limit, db(options), revisionOf(options))
    },
    async listGrants (target, options) {
      const ref = check.target(target)
      check.knownType(ref.resource)
      return await queries.listGrants(ref, db(options))
    },
    async scanGrants (filter = {}, options) {
      const limit = filter.limit ?? 1000
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) invalidGrant('limit must be an integer from 1 to 10000', '/limit')
      const after = filter.after ?? null
      if (after !== null && !isSeq(after)) invalidGrant('after must be the next of an earlier page', '/after')
      if (filter.resource !== undefined) check.target({ resource: filter.resource, id: null })
      const grantee = filter.grantee === undefined ? undefined : check.grantee(filter.grantee)
      const scan = { ...(grantee === undefined ? {} : { grantee }), ...(filter.resource === undefined ? {} : { resource: filter.resource }) }
      return await queries.scanGrants(scan, after, limit, db(options))
    },
    async scanParents (page = {}, options) {
      const limit = page.limit ?? 1000
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) invalidGrant('limit must be an integer from 1 to 10000', '/limit')
      const cursor = page.after ?? null
      const after = cursor === null ? null : fromChildCursor(cursor)
      if (cursor !== null && after === null) invalidGrant('after must be the next of an earlier page', '/after')
      return await queries.scanParents(after, limit, db(options))
    },
    async getOwner (target, options) {
      if (!check.id(target.resource) || !check.id(target.id)) return null
      return await queries.owner(target, db(options))
    },
    async explain (principal, target, options) {
      const ref = check.target(target)
      check.knownType(ref.resource)
      const asked = target.privilege === undefined ? null : check.privilege(target.privilege)
      return await queries.explain(principal, ref, asked, db(options))
    },
    async audit (filter = {}, options) {
      const limit = filter.limit ?? 50
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) invalidGrant('limit must be an integer from 1 to 1000', '/limit')
      if (filter.before !== undefined && !isSeq(filter.before)) invalidGrant('before must be an entry seq', '/before')
      return await queries.audit({
        limit,
        before: filter.before,
        resource: filter.resource === undefined ? undefined : check.target(filter.resource, true, '/resource'),
        grantee: filter.grantee === undefined ? undefined : check.grantee(filter.grantee)
      }, db(options))
    },
    async verifyAudit (options) {
      return await queries.verifyAudit(db(options))
    }
  }
}

function writeMethods ({ grants, validators: check }: ApiProps): WriteMethods {
  const instance = (input: unknown) => check.target(input, false) as Instance
  const context = (options: ServiceCallOptions | undefined, fallbackActor: unknown = null) => contextOf(check, options, fallbackActor)
  // One input of grantMany, as it is checked before anything is written.
  const grantItem = (input: GrantInput, options: ServiceCallOptions | undefined) => {
    const target = check.target(input)
    const privilege = check.privilege(input.privilege)
    return { target, grantee: check.grantee(input.grantee), privilege, ...check.schedule(input), context: context(options, input.grantedBy) }
  }
  return {
    async grant (input, options) {
      const target = check.target(input)
      const grantee = check.grantee(input.grantee)
      const privilege = check.privilege(input.privilege)
      const schedule = check.schedule(input)
      const { result: { before, changed }, revision } = await grants.grant(trusted(options), { target, grantee, privilege, ...schedule }, context(options, input.grantedBy))
      return { created: !before.includes(privilege), changed: changed.length > 0, revision: answered(revision) }
    },
    async grantMany (inputs, options) {
      if (!Array.isArray(inputs) || inputs.length > MAX_GRANT_MANY) invalidGrant(`grants must be an array of at most ${MAX_GRANT_MANY}`, '')
      // A refusal says which input: `error.index`.
      const items = inputs.map((input, index) => {
        try {
          return grantItem(input, options)
        } catch (err) {
          throw Object.assign(err as Error, { index })
        }
      })
      const { result: created, revision } = await grants.grantMany(trusted(options), items)
      return { created, revision: answered(revision) }
    },
    async validateGrants (inputs, options) {
      if (!Array.isArray(inputs) || inputs.length > MAX_GRANT_MANY) invalidGrant(`grants must be an array of at most ${MAX_GRANT_MANY}`, '')
      const refused: GrantRefusal[] = []
      for (const [index, input] of inputs.entries()) {
        try {
          const { grantee, privilege, target } = grantItem(input, options)
          await check.eligible(grantee, privilege, target)
        } catch (err) {
          const { code, message, field } = err as { code?: unknown, message: string, field?: string }
          if (typeof code !== 'string' || !code.startsWith('FST_DEFAULT_DENY_')) throw err
          refused.push({ index, code, message, ...(field === undefined ? {} : { field }) })
        }
      }
      return refused
    },
    async revoke (input, options) {
      const target = check.target(input)
      const grantee = check.grantee(input.grantee)
      const privilege = check.privilege(input.privilege)
      const { result: { before }, revision } = await grants.revoke(trusted(options), { target, grantee, privilege }, context(options))
      return { removed: before.includes(privilege), revision: answered(revision) }
    },
    async replace (input, options) {
      const target = check.target(input)
      const grantee = check.grantee(input.grantee)
      if (!Array.isArray(input.privileges)) invalidGrant('privileges must be an array', '/privileges')
      const privileges = input.privileges.map((p, i) => check.privilege(p, `/privileges/${i}`))
      const schedule = check.schedule(input)
      const { result: { before, after }, revision } = await grants.replace(trusted(options), { target, grantee, privileges, ...schedule }, context(options))
      return { before, after, revision: answered(revision) }
    },
    async setOwner (target, options) {
      const ref = instance(target)
      if (target.owner !== null) {
        if (!check.id(target.owner)) invalidGrant('owner must be a non-empty string without NUL or malformed Unicode, or null', '/owner')
        check.knownType(ref.resource)
      }
      const { revision } = await grants.setOwner(trusted(options), ref, target.owner, context(options))
      return { revision: answered(revision) }
    },
    async setParent (child, parent, options) {
      const ref = check.target(child, false, '/child') as Instance
      const to = parent === null ? null : check.target(parent, false, '/parent') as Instance
      if (parent === undefined) invalidGrant('parent must be a resource { resource, id } or null', '/parent')
      if (to !== null) check.knownType(to.resource, '/parent/resource')
      check.knownType(ref.resource, '/child/resource')
      const { revision } = await grants.setParent(trusted(options), ref, to, context(options))
      return { revision: answered(revision) }
    },
    async forgetResource (target, options) {
      const ref = instance(target)
      const { revision } = await grants.forgetResource(trusted(options), ref, context(options))
      return { revision: answered(revision) }
    },
    async purgeExpired (settings = {}, options) {
      const batchSize = settings.batchSize ?? 1000
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) invalidGrant('batchSize must be an integer from 1 to 10000', '/batchSize')
      if (options?.db?.isTransaction === true) invalidGrant('purgeExpired runs its own short transactions: call it without a transaction', '')
      const { result: purged, revision } = await grants.purgeExpired(trusted(options), batchSize, context(options))
      return { purged, revision: answered(revision) }
    }
  }
}

function memberMethods ({ members, validators: check }: ApiProps): MemberMethods {
  const context = (options?: ServiceCallOptions) => contextOf(check, options)
  const input = (value: unknown) => {
    if (typeof value !== 'object' || value === null) return invalidGrant('the membership must be an object { group, member }', '')
    const { group, member } = value as Record<string, unknown>
    return check.membership(group, member)
  }
  return {
    async addMember (value, options) {
      const { group, member } = input(value)
      const { result: added, revision } = await members.add(trusted(options), group, member, context(options))
      return { added, revision: answered(revision) }
    },
    async removeMember (value, options) {
      const { group, member } = input(value)
      const { result: removed, revision } = await members.remove(trusted(options), group, member, context(options))
      return { removed, revision: answered(revision) }
    },
    async listMembers (group, options) {
      if (!check.id(group)) invalidGrant('group must be a non-empty string without NUL or malformed Unicode', '')
      return await members.list(group, db(options))
    },
    async groupsOf (principal, options) {
      return await members.groupsOf(principal, db(options))
    }
  }
}

export function createApi (props: ApiProps): DefaultDenyApi {
  const { rules } = props
  return {
    ...readMethods(props),
    ...viewMethods(props.queries, props.validators, props.defaultPrivilege),
    ...writeMethods(props),
    ...memberMethods(props),
    ...treeMethods(props.queries, props.validators, invalidGrant),
    ...props.security,
    cacheStats: props.cacheStats,
    forgetTokens: props.forgetTokens,
    replicaStats: props.replicaStats,
    metrics: props.observability.metrics,
    health: props.observability.health,
    async revision () {
      return formatRevision(await props.position())
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
