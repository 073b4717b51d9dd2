// Each assertion asked of the plugin's real decision code: the service API
// for decisions, lists and explain, the grant API through inject for
// changes, and the host's own app through inject for routes. A failed one
// carries explain's account of why the plugin decided as it did.
import type { FastifyInstance } from 'fastify'
import { sql, type Kysely } from 'kysely'
import type { DefaultDenyApi, Explanation, Principal, Reason, RouteManifestEntry } from '../../fastify-plugin.js'
import { reasonOf } from '../error-reason.js'
import { kindOf, type Asking, type Assertion, type AssertionKind, type ChangeTarget } from './fixture.js'
import { granteeOf, principalOf, type Clock } from './world.js'

/** One instance the assertions run against: the plugin, its database, and how to sign a token for it. */
export interface Subject {
  app: FastifyInstance
  permissions: DefaultDenyApi
  db: Kysely<any>
  /** The headers a request by this principal carries (none for anonymous). */
  headers: (asking: Asking) => Record<string, string>
}

export interface Subjects {
  /** The fixture's own instance, with the fixture's options. */
  own: Subject
  /** The host's app (--app), for route assertions. */
  host?: Subject & { manifest: RouteManifestEntry[] }
  clock: Clock
}

export interface AssertionResult {
  index: number
  kind: AssertionKind
  title: string
  ok: boolean
  /** Why it failed: what was expected and what came. */
  message?: string
  /** Explain's account of the decision, one line each. */
  explain: string[]
}

const who = (asking: Asking) => `${asking.principal}${asking.groups === undefined || asking.groups.length === 0 ? '' : ` (groups ${asking.groups.join(', ')})`}${asking.superuser === true ? ' (superuser)' : ''}`
const list = (ids: readonly string[]) => `[${ids.join(', ')}]`
const granteeText = (g: { kind: string, id?: string }) => g.kind === 'anonymous' ? 'anonymous' : `${g.kind}:${g.id as string}`
const sorted = (ids: Iterable<string>) => [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))

function reasonText (reason: Reason): string {
  const base = reason.source === 'owner' || reason.source === 'superuser' ? reason.source : granteeText(reason.grantee as { kind: string, id?: string })
  const via = reason.via === undefined || reason.via.length === 0 ? '' : ` through ${reason.via.join(' > ')}`
  const on = reason.ancestor === undefined ? '' : ` on ${reason.ancestor.resource}:${reason.ancestor.id}`
  return `${base}${via}${reason.typeLevel ? ' (type-level)' : ''}${on}`
}

/** Explain in lines: its summary, then each privilege held and through what. */
export async function explainLines (permissions: DefaultDenyApi, principal: Principal, target: { resource: string, id: string, privilege?: string }, asking: Asking): Promise<string[]> {
  let explanation: Explanation
  try {
    explanation = await permissions.explain(principal, target as Parameters<DefaultDenyApi['explain']>[1])
  } catch (err) {
    return [`explain ${who(asking)} on ${target.resource}/${target.id}: refused: ${reasonOf(err)}`]
  }
  return [
    `explain ${who(asking)} on ${target.resource}/${target.id}${target.privilege === undefined ? '' : ` for ${target.privilege}`}: ${explanation.summary}`,
    ...explanation.privileges.map((p) => `  ${p.privilege}: ${p.via.map(reasonText).join('; ')}`)
  ]
}

async function explainIds (subject: Subject, asking: Asking, resource: string, privilege: string, ids: string[]): Promise<string[]> {
  const lines = await Promise.all(ids.slice(0, 5).map(async (id) => await explainLines(subject.permissions, principalOf(asking), { resource, id, privilege }, asking)))
  return [...lines.flat(), ...(ids.length > 5 ? [`(and ${ids.length - 5} more ids)`] : [])]
}

function difference (expected: string[], actual: string[]) {
  const missing = expected.filter((id) => !actual.includes(id))
  const extra = actual.filter((id) => !expected.includes(id))
  return { missing, extra, same: missing.length === 0 && extra.length === 0 }
}

function titleOf (assertion: Assertion): string {
  if ('allow' in assertion || 'deny' in assertion) {
    const target = 'allow' in assertion ? assertion.allow : assertion.deny
    return `${'allow' in assertion ? 'allow' : 'deny'} ${who(target)} ${target.privilege} on ${target.resource}/${target.id}`
  }
  if ('listIds' in assertion) return `listIds ${who(assertion.listIds)} ${assertion.listIds.privilege} on ${assertion.listIds.resource}: ${assertion.all === true ? 'all' : list(sorted(assertion.ids ?? []))}`
  if ('filter' in assertion) return `filter ${who(assertion.filter)} ${assertion.filter.privilege} on ${assertion.filter.resource} keeps ${list(assertion.keeps)} of ${list(assertion.filter.rows)}`
  if ('explain' in assertion) {
    const { names } = assertion
    const fields = Object.entries(names).filter(([key]) => key !== 'source').map(([key, value]) => `${key} ${String(value)}`)
    return `explain ${who(assertion.explain)} on ${assertion.explain.resource}/${assertion.explain.id} names ${names.source}${fields.length === 0 ? '' : ` (${fields.join(', ')})`}`
  }
  if ('change' in assertion) return `${changeText(assertion.change)} is refused with ${assertion.refused}`
  return `${assertion.route} as ${assertion.as ?? 'anonymous'} answers ${assertion.status}`
}

function changeText (change: ChangeTarget): string {
  const on = `${change.resource}/${change.id}`
  if (change.grant !== undefined) return `${change.as} grants ${change.grant.privilege} on ${on} to ${change.grant.grantee}`
  if (change.revoke !== undefined) return `${change.as} revokes ${change.revoke.privilege} on ${on} from ${change.revoke.grantee}`
  return `${change.as} sets the owner of ${on} to ${change.owner ?? 'none'}`
}

const enc = encodeURIComponent

// The grant API's request for a change, as a client sends it.
function changeRequest (change: ChangeTarget, clock: Clock): { method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: object } {
  const base = `/permissions/${enc(change.resource)}/${enc(change.id)}`
  if (change.grant !== undefined) {
    const { grantee, privilege, expiresAt, startsAt } = change.grant
    return {
      method: 'POST',
      url: `${base}/grants`,
      payload: { grantee: granteeOf(grantee), privilege, ...(expiresAt === undefined ? {} : { expiresAt: clock.at(expiresAt).toISOString() }), ...(startsAt === undefined ? {} : { startsAt: clock.at(startsAt).toISOString() }) }
    }
  }
  if (change.revoke !== undefined) {
    const grantee = granteeOf(change.revoke.grantee)
    const whom = grantee.kind === 'anonymous' ? 'anonymous' : `${grantee.kind}/${enc(grantee.id)}`
    return { method: 'DELETE', url: `${base}/grants/${whom}/${enc(change.revoke.privilege)}` }
  }
  return { method: 'PUT', url: `${base}/owner`, payload: { owner: change.owner ?? null } }
}

type Outcome = Omit<AssertionResult, 'index' | 'kind' | 'title'>

async function decide (subjects: Subjects, assertion: Assertion): Promise<Outcome> {
  const { own } = subjects
  if ('allow' in assertion || 'deny' in assertion) {
    const expected = 'allow' in assertion
    const target = 'allow' in assertion ? assertion.allow : assertion.deny
    const principal = principalOf(target)
    const allowed = await own.permissions.check(principal, { resource: target.resource, id: target.id, privilege: target.privilege as never })
    if (allowed === expected) return { ok: true, explain: [] }
    return { ok: false, message: `expected ${expected ? 'allow' : 'deny'}, the plugin decided ${allowed ? 'allow' : 'deny'}`, explain: await explainLines(own.permissions, principal, target, target) }
  }
  if ('listIds' in assertion) {
    const target = assertion.listIds
    const ids: string[] = []
    let all = false
    let after: string | undefined
    do {
      const page = await own.permissions.listIds(principalOf(target), { resource: target.resource, privilege: target.privilege as never, limit: 1000, ...(after === undefined ? {} : { after }) })
      ids.push(...page.ids)
      all ||= page.all
      after = page.next ?? undefined
    } while (after !== undefined)
    if (assertion.all !== undefined && assertion.all !== all) {
      return { ok: false, message: `expected all: ${String(assertion.all)}, listIds answered all: ${String(all)}${all ? '' : ` with ${list(sorted(ids))}`}`, explain: [] }
    }
    if (assertion.ids === undefined || all) return { ok: true, explain: [] }
    const { missing, extra, same } = difference(assertion.ids, ids)
    if (same) return { ok: true, explain: [] }
    return {
      ok: false,
      message: `expected ${list(sorted(assertion.ids))}, listIds returned ${list(sorted(ids))}${missing.length > 0 ? `; missing ${list(missing)}` : ''}${extra.length > 0 ? `; not expected ${list(extra)}` : ''}`,
      explain: await explainIds(own, target, target.resource, target.privilege, [...missing, ...extra])
    }
  }
  if ('filter' in assertion) {
    const target = assertion.filter
    const condition = own.permissions.filter(principalOf(target), { resource: target.resource, privilege: target.privilege as never }, 'row.id')
    const kept = (await own.db.selectFrom(sql<{ id: string }>`(select unnest(cast(${target.rows} as text[])) as id)`.as('row'))
      .select('row.id').where(condition).execute()).map((r: { id: string }) => r.id)
    const { missing, extra, same } = difference(assertion.keeps, kept)
    if (same) return { ok: true, explain: [] }
    return {
      ok: false,
      message: `expected the filter to keep ${list(assertion.keeps)}, it kept ${list(target.rows.filter((id) => kept.includes(id)))}`,
      explain: await explainIds(own, target, target.resource, target.privilege, [...missing, ...extra])
    }
  }
  if ('explain' in assertion) {
    const target = assertion.explain
    const principal = principalOf(target)
    const explanation = await own.permissions.explain(principal, target as never)
    const { names } = assertion
    const matches = (r: Reason) => r.source === names.source &&
      (names.grantee === undefined || (r.grantee !== undefined && granteeText(r.grantee as { kind: string, id?: string }) === names.grantee)) &&
      (names.privilege === undefined || r.privilege === names.privilege) &&
      (names.typeLevel === undefined || r.typeLevel === names.typeLevel) &&
      (names.ancestor === undefined || (r.ancestor !== undefined && `${r.ancestor.resource}:${r.ancestor.id}` === names.ancestor))
    if (explanation.privileges.some((p) => p.via.some(matches))) return { ok: true, explain: [] }
    return { ok: false, message: 'explain gives no such reason', explain: await explainLines(own.permissions, principal, target, target) }
  }
  if ('change' in assertion) {
    const { change } = assertion
    const response = await own.app.inject({ ...changeRequest(change, subjects.clock), headers: own.headers({ principal: change.as, ...(change.groups === undefined ? {} : { groups: change.groups }) }) })
    let code: unknown
    try { code = (response.json() as { code?: unknown }).code } catch { code = undefined }
    if (response.statusCode >= 400 && code === assertion.refused) return { ok: true, explain: [] }
    const asking = { principal: change.as, ...(change.groups === undefined ? {} : { groups: change.groups }) }
    return {
      ok: false,
      message: response.statusCode < 400 ? `expected ${assertion.refused}, the change was made (${response.statusCode})` : `expected ${assertion.refused}, the API answered ${response.statusCode} ${String(code ?? '(no code)')}`,
      explain: await explainLines(own.permissions, principalOf(asking), { resource: change.resource, id: change.id, privilege: 'manage' }, asking)
    }
  }
  return await route(subjects, assertion)
}

async function route (subjects: Subjects, assertion: Extract<Assertion, { route: string }>): Promise<Outcome> {
  const { host } = subjects
  if (host === undefined) return { ok: false, message: 'a route assertion needs the app: run with --app (or give policyTest the app option)', explain: [] }
  const [method, url] = assertion.route.split(' ') as [string, string]
  const entry = host.manifest.find((r) => r.method === method && r.url === url)
  if (entry === undefined) return { ok: false, message: `the app has no route ${assertion.route}`, explain: [] }
  const params = assertion.params ?? {}
  const missing = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string).filter((name) => params[name] === undefined)
  if (missing.length > 0) return { ok: false, message: `params must give ${missing.join(', ')}`, explain: [] }
  const path = url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => enc(params[name] as string))
  const asking: Asking = { principal: assertion.as ?? 'anonymous', ...(assertion.groups === undefined ? {} : { groups: assertion.groups }) }
  const response = await host.app.inject({ method: method as 'GET', url: path, headers: host.headers(asking), ...(assertion.body === undefined ? {} : { payload: assertion.body as object }) })
  if (response.statusCode === assertion.status) return { ok: true, explain: [] }
  const message = `expected ${assertion.status}, the app answered ${response.statusCode}`
  const from = entry.idFrom
  if (entry.access !== 'resource' || typeof from !== 'object') return { ok: false, message, explain: [`the route needs: ${entry.access}${entry.resource === undefined ? '' : ` ${entry.privilege ?? ''} on ${entry.resource}`}`] }
  const target = { resource: entry.resource as string, id: params[from.param] as string, privilege: entry.privilege as string }
  return { ok: false, message, explain: await explainLines(host.permissions, principalOf(asking), target, asking) }
}

/** Runs one assertion; a refusal by the plugin (an unknown type, a privilege it does not know) fails it with the plugin's words. */
export async function runAssertion (subjects: Subjects, assertion: Assertion, index: number): Promise<AssertionResult> {
  const kind = kindOf(assertion)
  const title = assertion.description ?? titleOf(assertion)
  try {
    return { index, kind, title, ...await decide(subjects, assertion) }
  } catch (err) {
    return { index, kind, title, ok: false, message: `the plugin refused the question: ${reasonOf(err)}`, explain: [] }
  }
}

/** The resource types an assertion exercises (a route's, once the host's manifest names it). */
export function typesExercised (assertion: Assertion, manifest: readonly RouteManifestEntry[] = []): string[] {
  if ('allow' in assertion) return [assertion.allow.resource]
  if ('deny' in assertion) return [assertion.deny.resource]
  if ('listIds' in assertion) return [assertion.listIds.resource]
  if ('filter' in assertion) return [assertion.filter.resource]
  if ('explain' in assertion) return [assertion.explain.resource]
  if ('change' in assertion) return [assertion.change.resource]
  const [method, url] = assertion.route.split(' ')
  const resource = manifest.find((r) => r.method === method && r.url === url)?.resource
  return resource === undefined ? [] : [resource]
}
