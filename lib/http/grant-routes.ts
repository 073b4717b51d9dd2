// The grant-management HTTP API. Every route needs a verified user; who may
// do what is decided inside the write transaction, against locked rows.
import { STATUS_CODES } from 'node:http'
import { Ajv } from 'ajv'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { GranteeRef, Principal, ResourceRef } from '../../fastify-plugin.js'
import { withBudget } from '../store/deadline.js'
import type { Facts } from '../decision/decide.js'
import { explain } from '../decision/explain.js'
import { mayChange, mayManage } from '../decision/manage.js'
import { levelAllows, MANAGE, managingPrivileges, type Policy } from '../decision/policy.js'
import { codes, deniedError } from '../errors.js'
import type { GrantStore, WriteContext } from '../store/grant-store.js'
import { isSeq, isValidId, isValidText, MAX_REASON_LENGTH, MAX_REQUEST_ID_LENGTH } from '../decision/ids.js'
import type { Settings } from '../options.js'
import type { Validators } from '../service/api.js'
import { buildSchemas, errorResponses } from './schemas.js'

export interface GrantRoutesDeps {
  settings: Settings
  store: GrantStore
  policy: Policy
  validators: Validators
}

type Instance = ResourceRef & { id: string }
type Authorize = (privileges: Iterable<string>) => void

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
const SINGLE_BODY_LIMIT = 64 * 1024
const BULK_BODY_LIMIT = 1024 * 1024

export const grantRoutes: FastifyPluginAsync<GrantRoutesDeps> = async (app, { settings, store, policy, validators }) => {
  // No coercion: `["read"]`, 123, null or true are not a privilege.
  const ajv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false })
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema))

  app.setErrorHandler((err: Error & { code?: string, statusCode?: number, validation?: unknown }, request, reply) => {
    if (err.validation !== undefined) {
      request.log.info({ validation: err.message }, 'fastify-default-deny: invalid grant request')
      return reply.send(new codes.FST_DEFAULT_DENY_INVALID_REQUEST())
    }
    if (typeof err.code === 'string' && err.code.startsWith('FST_DEFAULT_DENY_')) return reply.send(err)
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors (malformed JSON, body too large, media type).
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode], message: 'Invalid request body' })
    }
    // Anything else is ours or the database's: fail closed, say nothing.
    request.log.error({ err }, 'fastify-default-deny: grant request failed')
    return reply.send(new codes.FST_DEFAULT_DENY_UNAVAILABLE())
  })

  const s = buildSchemas(settings)
  const config = { permission: 'authenticated' as const }
  const denied = () => deniedError(settings.hideForbidden)

  function actorOf (request: FastifyRequest): Principal {
    return request.principal as Principal
  }

  // Everything here reaches an audit row and its hash: it must be stored
  // exactly as sent, or the request is refused before anything is written.
  function context (request: FastifyRequest, reason: unknown): WriteContext {
    const requestId = String(request.id)
    if ((reason !== undefined && !isValidText(reason, MAX_REASON_LENGTH)) || !isValidText(requestId, MAX_REQUEST_ID_LENGTH)) {
      throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
    }
    return { actor: actorOf(request).id, requestId, reason: reason ?? null }
  }

  function target (params: unknown): Instance {
    const { resource, id } = params as { resource: string, id: string }
    // Ids that cannot exist (NUL, malformed Unicode) have nothing to manage.
    if (!isValidId(resource, settings.maxIdLength) || !isValidId(id, settings.maxIdLength)) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    return { resource, id }
  }

  function granteeOf (params: { kind?: string, principal?: string }): GranteeRef {
    if (params.kind === undefined) return { kind: 'anonymous' }
    if (!isValidId(params.principal, settings.maxIdLength)) throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
    return { kind: params.kind as 'user' | 'group', id: params.principal as string }
  }

  function expiry (value: unknown): Date | null {
    if (value === undefined) return null
    const date = new Date(value as string)
    if (typeof value !== 'string' || !ISO_INSTANT.test(value) || !Number.isFinite(date.getTime()) || date.getTime() <= Date.now()) {
      throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
    }
    return date
  }

  function grantee (value: unknown): GranteeRef {
    try {
      return validators.grantee(value)
    } catch {
      throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
    }
  }

  async function mustExist (targets: Instance[]): Promise<void> {
    const exists = settings.resourceExists
    if (typeof exists !== 'function') return
    for (const t of targets) {
      if (await exists(t.resource, t.id) !== true) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    }
  }

  /** Read access to a resource's grants: the same people who may change them. */
  async function mustManage (request: FastifyRequest, ref: Instance, db?: Kysely<any>): Promise<Facts> {
    const actor = actorOf(request)
    const facts = actor.superuser
      ? { owner: null, privileges: [] }
      : await withBudget(settings.checkTimeout, async (budget) => await store.facts(actor, ref, db, budget))
    if (!mayManage(actor, facts, policy)) {
      request.log.info({ actor: actor.id, resource: ref.resource }, 'fastify-default-deny: not a manager')
      throw denied()
    }
    return facts
  }

  const managing = [...managingPrivileges(policy)]

  /**
   * Runs a change on `refs` in one transaction: locks the resources and the
   * actor's own rights, checks the actor may manage each, lets `work` change
   * things (calling `authorize` with every privilege it adds or removes), and
   * refuses to leave a resource that had a manager without one.
   */
  async function change<T> (
    request: FastifyRequest,
    refs: Instance[],
    work: (trx: Kysely<any>, authorize: (ref: Instance) => Authorize) => Promise<T>
  ): Promise<T> {
    await mustExist(refs)
    // A request the endpoint rules demoted (say, to reader) changes no grants.
    const level = request.accessLevel
    if (!levelAllows(settings.levelPrivileges, level, MANAGE)) {
      request.log.info({ level }, 'fastify-default-deny: grant change above the request\'s level')
      throw denied()
    }
    const actor = actorOf(request)
    // Bounded like a check: a stalled database or a locked table answers 503
    // and the transaction rolls back; it never commits after that answer.
    return await withBudget(settings.writeTimeout, async (budget) => await store.write(undefined, refs, async (trx) => {
      const factsByKey = new Map<string, Facts>()
      const managersBefore = new Map<string, number>()
      for (const ref of refs) {
        const key = `${ref.resource}/${ref.id}`
        if (factsByKey.has(key)) continue
        const facts = await store.lockedFacts(trx, actor, ref)
        if (!mayManage(actor, facts, policy)) {
          request.log.info({ actor: actor.id, resource: ref.resource }, 'fastify-default-deny: not a manager')
          throw denied()
        }
        factsByKey.set(key, facts)
        managersBefore.set(key, await store.managerCount(trx, ref, managing))
      }
      const authorize = (ref: Instance): Authorize => (privileges) => {
        const facts = factsByKey.get(`${ref.resource}/${ref.id}`) as Facts
        for (const privilege of privileges) {
          if (mayChange(actor, facts, privilege, policy, settings.allowManageDelegation) !== 'allow') {
            request.log.info({ actor: actor.id, privilege }, 'fastify-default-deny: escalation refused')
            throw new codes.FST_DEFAULT_DENY_ESCALATION()
          }
        }
      }
      const result = await work(trx, authorize)
      for (const ref of refs) {
        const key = `${ref.resource}/${ref.id}`
        if ((managersBefore.get(key) ?? 0) > 0 && await store.managerCount(trx, ref, managing) === 0) {
          throw new codes.FST_DEFAULT_DENY_LAST_MANAGER()
        }
      }
      return result
    }, budget))
  }

  const difference = (a: string[], b: string[]) => [...a.filter((p) => !b.includes(p)), ...b.filter((p) => !a.includes(p))]

  // ---- reading ----

  app.get('/:resource/:id/grants', {
    config,
    schema: { params: s.resourceParams, response: { 200: s.listResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    await mustManage(request, ref)
    const now = Date.now()
    const live = (g: { expiresAt: Date | null }) => g.expiresAt === null || g.expiresAt.getTime() > now
    const [explicit, typeLevel, owner] = await Promise.all([
      store.listGrants(ref), store.listGrants({ resource: ref.resource, id: null }), store.getOwner(ref)
    ])
    const grants = [
      ...(owner === null ? [] : [...settings.ownerPrivileges].map((privilege) => ({
        grantee: { kind: 'user', id: owner }, privilege, source: 'owner', grantedBy: null, grantedAt: null, expiresAt: null
      }))),
      ...explicit.filter(live).map((g) => ({ ...g, source: 'explicit' })),
      ...typeLevel.filter(live).map((g) => ({ ...g, source: 'type' }))
    ]
    return { resource: ref.resource, id: ref.id, owner, grants }
  })

  app.get('/:resource/:id/explain', {
    config,
    schema: { params: s.resourceParams, querystring: s.explainQuery, response: { 200: s.explainResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    await mustManage(request, ref)
    const query = request.query as { kind: 'user' | 'anonymous', principal?: string, groups?: string | string[], privilege?: string }
    let principal: Principal
    if (query.kind === 'anonymous') {
      if (query.principal !== undefined || query.groups !== undefined) throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
      principal = { kind: 'anonymous', id: null, groups: [], superuser: false, claims: null }
    } else {
      const groups = query.groups === undefined ? [] : Array.isArray(query.groups) ? query.groups : [query.groups]
      if (!isValidId(query.principal, settings.maxIdLength) || !groups.every((g) => isValidId(g, settings.maxIdLength))) {
        throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
      }
      principal = { kind: 'user', id: query.principal as string, groups, superuser: false, claims: null }
    }
    const [sources, owner] = await Promise.all([store.sources(principal, ref), store.getOwner(ref)])
    const explanation = explain(principal, sources, owner, policy, query.privilege ?? null)
    return { principal: { kind: principal.kind, id: principal.id, groups: principal.groups }, ...explanation }
  })

  async function auditPage (filter: Parameters<GrantStore['listAudit']>[0]) {
    const entries = await store.listAudit({ ...filter, limit: filter.limit + 1 })
    const more = entries.length > filter.limit
    const page = entries.slice(0, filter.limit)
    return { entries: page, next: more ? (page.at(-1)?.seq ?? null) : null }
  }

  function auditFilter (query: { limit?: string, before?: string, kind?: string, principal?: string }) {
    let granteeFilter: GranteeRef | undefined
    if (query.kind !== undefined) granteeFilter = grantee(query.kind === 'anonymous' ? { kind: 'anonymous' } : { kind: query.kind, id: query.principal })
    else if (query.principal !== undefined) throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
    // The schema's pattern admits 19 digits; past the bigint range is no entry.
    if (query.before !== undefined && !isSeq(query.before)) throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
    return { limit: query.limit === undefined ? 50 : Number(query.limit), before: query.before, grantee: granteeFilter }
  }

  app.get('/:resource/:id/audit', {
    config,
    schema: { params: s.resourceParams, querystring: s.auditQuery, response: { 200: s.auditResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    await mustManage(request, ref)
    return await auditPage({ ...auditFilter(request.query as never), resource: ref })
  })

  app.get('/audit', {
    config,
    schema: { querystring: s.auditQuery, response: { 200: s.auditResponse, ...errorResponses } }
  }, async (request) => {
    if (!actorOf(request).superuser) throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    return await auditPage(auditFilter(request.query as never))
  })

  app.get('/audit/verify', {
    config,
    schema: { response: { 200: s.verifyResponse, ...errorResponses } }
  }, async (request) => {
    if (!actorOf(request).superuser) throw new codes.FST_DEFAULT_DENY_FORBIDDEN()
    return await store.verifyAudit()
  })

  // ---- changing ----

  app.post('/:resource/:id/grants', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.resourceParams, body: s.addBody, response: { 200: s.changeResponse, 201: s.changeResponse, ...errorResponses } }
  }, async (request, reply) => {
    const ref = target(request.params)
    const body = request.body as { grantee: unknown, privilege: string, expiresAt?: string, reason?: string }
    const who = grantee(body.grantee)
    const expiresAt = expiry(body.expiresAt)
    const ctx = context(request, body.reason)
    await validators.eligible(who, body.privilege, ref)
    const result = await change(request, [ref], async (trx, authorize) => {
      authorize(ref)([body.privilege])
      return await store.setPrivileges(trx, { target: ref, grantee: who, privileges: [body.privilege], only: [body.privilege], expiresAt }, ctx)
    })
    return reply.code(result.before.includes(body.privilege) ? 200 : 201).send({ grantee: who, ...result })
  })

  async function revoke (request: FastifyRequest, who: GranteeRef, privilege: string) {
    const ref = target(request.params)
    const ctx = context(request, (request.query as { reason?: string }).reason)
    const result = await change(request, [ref], async (trx, authorize) => {
      authorize(ref)([privilege])
      return await store.setPrivileges(trx, { target: ref, grantee: who, privileges: [], only: [privilege] }, ctx)
    })
    return { grantee: who, ...result }
  }

  const reasonQuery = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: MAX_REASON_LENGTH } } }

  app.delete('/:resource/:id/grants/:kind/:principal/:privilege', {
    config,
    schema: { params: s.revokeParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => {
    const params = request.params as { kind: string, principal: string, privilege: string }
    return await revoke(request, granteeOf(params), params.privilege)
  })

  app.delete('/:resource/:id/grants/anonymous/:privilege', {
    config,
    schema: { params: s.revokeAnonymousParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => revoke(request, { kind: 'anonymous' }, (request.params as { privilege: string }).privilege))

  async function replaceOne (request: FastifyRequest, who: GranteeRef) {
    const ref = target(request.params)
    const body = request.body as { privileges: string[], expiresAt?: string, reason?: string }
    const expiresAt = expiry(body.expiresAt)
    const ctx = context(request, body.reason)
    for (const privilege of body.privileges) await validators.eligible(who, privilege, ref)
    const result = await change(request, [ref], async (trx, authorize) => {
      const before = await store.explicitPrivileges(trx, ref, who)
      authorize(ref)(difference(before, body.privileges))
      return await store.setPrivileges(trx, { target: ref, grantee: who, privileges: body.privileges, expiresAt }, ctx)
    })
    return { grantee: who, ...result }
  }

  app.put('/:resource/:id/grantees/:kind/:principal', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.granteeParams, body: s.replaceOneBody, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => replaceOne(request, granteeOf(request.params as never)))

  app.put('/:resource/:id/grantees/anonymous', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.anonymousParams, body: s.replaceOneBody, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => replaceOne(request, { kind: 'anonymous' }))

  async function revokeAll (request: FastifyRequest, who: GranteeRef) {
    const ref = target(request.params)
    const ctx = context(request, (request.query as { reason?: string }).reason)
    const result = await change(request, [ref], async (trx, authorize) => {
      authorize(ref)(await store.explicitPrivileges(trx, ref, who))
      return await store.setPrivileges(trx, { target: ref, grantee: who, privileges: [] }, ctx)
    })
    return { grantee: who, ...result }
  }

  app.delete('/:resource/:id/grantees/:kind/:principal', {
    config,
    schema: { params: s.granteeParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => revokeAll(request, granteeOf(request.params as never)))

  app.delete('/:resource/:id/grantees/anonymous', {
    config,
    schema: { params: s.anonymousParams, querystring: reasonQuery, response: { 200: s.changeResponse, ...errorResponses } }
  }, async (request) => revokeAll(request, { kind: 'anonymous' }))

  app.put('/:resource/:id/grants', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { params: s.resourceParams, body: s.replaceAllBody, response: { 200: s.changesResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    const body = request.body as { grants: Array<{ grantee: unknown, privilege: string, expiresAt?: string }>, reason?: string }
    const ctx = context(request, body.reason)
    const wanted = new Map<string, { grantee: GranteeRef, items: Array<{ privilege: string, expiresAt: Date | null }> }>()
    for (const item of body.grants) {
      const who = grantee(item.grantee)
      const key = JSON.stringify(who)
      const entry = wanted.get(key) ?? { grantee: who, items: [] }
      entry.items.push({ privilege: item.privilege, expiresAt: expiry(item.expiresAt) })
      wanted.set(key, entry)
      await validators.eligible(who, item.privilege, ref)
    }
    const changes = await change(request, [ref], async (trx, authorize) => {
      for (const who of await store.grantees(trx, ref)) {
        const key = JSON.stringify(who)
        if (!wanted.has(key)) wanted.set(key, { grantee: who, items: [] })
      }
      const results = []
      for (const { grantee: who, items } of wanted.values()) {
        const privileges = [...new Set(items.map((i) => i.privilege))]
        const before = await store.explicitPrivileges(trx, ref, who)
        authorize(ref)(difference(before, privileges))
        // Usually every item of a grantee has the same expiry: one call sets
        // the privileges and that expiry. Otherwise each expiry is set after.
        const expiries = new Set(items.map((i) => i.expiresAt?.getTime() ?? null))
        const shared = expiries.size === 1 ? (items[0]?.expiresAt ?? null) : undefined
        const result = await store.setPrivileges(trx, { target: ref, grantee: who, privileges, expiresAt: shared }, ctx)
        if (expiries.size > 1) {
          for (const item of items) {
            await store.setPrivileges(trx, { target: ref, grantee: who, privileges: [item.privilege], only: [item.privilege], expiresAt: item.expiresAt }, ctx)
          }
        }
        if (result.before.join() !== result.after.join()) results.push({ grantee: who, ...result })
      }
      return results
    })
    return { changes }
  })

  app.post('/bulk', {
    config,
    bodyLimit: BULK_BODY_LIMIT,
    schema: { body: s.bulkBody, response: { 200: s.changesResponse, ...errorResponses } }
  }, async (request) => {
    const body = request.body as {
      grant?: Array<{ resource: string, id: string, grantee: unknown, privilege: string, expiresAt?: string }>
      revoke?: Array<{ resource: string, id: string, grantee: unknown, privilege: string }>
      reason?: string
    }
    const grants = (body.grant ?? []).map((item) => ({
      ref: target(item), grantee: grantee(item.grantee), privilege: item.privilege, expiresAt: expiry(item.expiresAt)
    }))
    const revokes = (body.revoke ?? []).map((item) => ({ ref: target(item), grantee: grantee(item.grantee), privilege: item.privilege }))
    const ctx = context(request, body.reason)
    for (const item of grants) await validators.eligible(item.grantee, item.privilege, item.ref)
    await mustExist(grants.map((item) => item.ref))
    const changes = await change(request, [...grants, ...revokes].map((item) => item.ref), async (trx, authorize) => {
      const results = []
      for (const item of grants) {
        authorize(item.ref)([item.privilege])
        const result = await store.setPrivileges(trx, { target: item.ref, grantee: item.grantee, privileges: [item.privilege], only: [item.privilege], expiresAt: item.expiresAt }, ctx)
        results.push({ grantee: item.grantee, ...result })
      }
      for (const item of revokes) {
        authorize(item.ref)([item.privilege])
        const result = await store.setPrivileges(trx, { target: item.ref, grantee: item.grantee, privileges: [], only: [item.privilege] }, ctx)
        results.push({ grantee: item.grantee, ...result })
      }
      return results
    })
    return { changes }
  })

  app.put('/:resource/:id/owner', {
    config,
    bodyLimit: SINGLE_BODY_LIMIT,
    schema: { params: s.resourceParams, body: s.ownerBody, response: { 200: s.ownerResponse, ...errorResponses } }
  }, async (request) => {
    const ref = target(request.params)
    const body = request.body as { owner: string | null, reason?: string }
    if (body.owner !== null && !isValidId(body.owner, settings.maxIdLength)) throw new codes.FST_DEFAULT_DENY_INVALID_REQUEST()
    const actor = actorOf(request)
    const ctx = context(request, body.reason)
    return await change(request, [ref], async (trx) => {
      const before = await store.getOwner(ref, trx)
      // Only the owner (or a superuser) hands ownership on; managers cannot take it.
      if (!actor.superuser && before !== actor.id) throw new codes.FST_DEFAULT_DENY_ESCALATION()
      await store.setOwner(trx, { ...ref, owner: body.owner }, ctx)
      return { owner: body.owner, before }
    })
  })
}
