// The read use cases: the check host code asks for, explain, what a manager
// sees of a resource's grants, and the audit trail. Shared by the service API
// and the grant routes.
import type { Expression, Kysely, SqlBool } from 'kysely'
import type { AuditEntry, AuditVerification, Explanation, Grant, Principal, ResourceRef } from '../../fastify-plugin.js'
import { explain } from '../decision/explain.js'
import { MANAGE, type Policy } from '../decision/policy.js'
import { expired, overrides } from '../decision/rule.js'
import { explainStepUp, type StepUpPolicy } from '../decision/step-up.js'
import type { AuditFilter, AuditLog } from '../store/audit.js'
import type { MembershipStore } from '../store/members.js'
import { managedBy, type BrowsedResource } from '../store/browse.js'
import type { GrantReader, GrantScan } from '../store/reader.js'
import type { TreeStore } from '../store/tree.js'
import type { Instance } from './grants.js'
import type { ManagedGrant } from '../shapes/grant-api.js'
import type { Authorizer } from './authorizer.js'

export interface QueriesProps {
  readonly reader: GrantReader
  readonly audit: AuditLog
  readonly policy: Policy
  readonly members: MembershipStore
  /** With the `stepUp` option: explain says which privileges need a second factor. */
  readonly stepUp?: StepUpPolicy | null
  /** Every check, filter and list of ids is its. */
  readonly authorizer: Authorizer
  /** Told of each verification that found the chain broken (the metrics). */
  readonly auditFailed?: () => void
  readonly tree: TreeStore
}

export type { ManagedGrant } from '../shapes/grant-api.js'

/**
 * The cursor of a page of children: the last child's type and id, as
 * base64url JSON. Opaque to callers; `fromChildCursor` refuses anything else.
 */
export const childCursor = (ref: Instance): string => Buffer.from(JSON.stringify([ref.resource, ref.id])).toString('base64url')

export function fromChildCursor (cursor: string): Instance | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' &&
      childCursor({ resource: value[0], id: value[1] }) === cursor) return { resource: value[0], id: value[1] }
  } catch {}
  return null
}

/** One resource a principal may use, and through what (explain's evidence). */
export interface AccessItem {
  id: string
  privileges: Explanation['privileges']
}

/** A page of what a principal may use: see `GrantQueries.access`. */
export interface AccessPage {
  /** A type-level grant (or being a superuser) makes every resource of the type usable, listed or not. */
  all: boolean
  resources: AccessItem[]
  next: string | null
}

// How many of the subject's ids `access` reads at a time when the viewer
// sees only part of them: those outside its reach are skipped, and never
// named, not even as the `next` of a page.
const ACCESS_SCAN = 500

// Browsing as one who may see every known resource of the type; also the
// service API's view when its trusted caller names no viewer.
export const SUPERUSER_VIEW: Principal = Object.freeze({ kind: 'user', id: null, groups: Object.freeze([]) as readonly string[], superuser: true, claims: null })

export class GrantQueries {
  readonly #props: QueriesProps

  constructor (props: QueriesProps) {
    this.#props = Object.freeze({ ...props })
  }

  /** The decision of a route check, without its time bound. */
  async check (principal: Principal, target: ResourceRef, privilege: string, db?: Kysely<any>, revision: bigint | null = null): Promise<boolean> {
    return await this.#props.authorizer.check({ principal, resource: target.resource, id: target.id, privilege }, { db, revision })
  }

  /** One answer per id, in order, from one query. */
  async checkMany (principal: Principal, resource: string, ids: readonly string[], privilege: string, db?: Kysely<any>, revision: bigint | null = null): Promise<boolean[]> {
    return await this.#props.authorizer.checkMany({ principal, resource, ids, privilege }, { db, revision })
  }

  /** The check as a condition for a host's own query. */
  filter (principal: Principal, resource: string, privilege: string, id: Expression<unknown>): Expression<SqlBool> {
    return this.#props.authorizer.filter({ principal, resource, privilege }, id)
  }

  /**
   * `filter`, with what the principal holds through read first (one prepared
   * question: a wide grant, its groups, which sources hold anything after
   * `after`, the pairs it reaches resources below): a condition PostgreSQL
   * can then drive from those grants alone, or none at all.
   */
  async visible (principal: Principal, resource: string, privilege: string, id: Expression<unknown>, after: string, db?: Kysely<any>, revision: bigint | null = null): Promise<Expression<SqlBool>> {
    const known = await this.#props.authorizer.holdings({ principal, resource, privilege, after }, { db, revision })
    return this.#props.authorizer.filter({ principal, resource, privilege }, id, { ...known, after })
  }

  /** A keyset page of ids: `next` is the `after` of the following page, or null after the last. */
  async listIds (principal: Principal, resource: string, privilege: string, after: string, limit: number, db?: Kysely<any>, revision: bigint | null = null): Promise<{ ids: string[], next: string | null, all: boolean }> {
    const { all, ids } = await this.#props.authorizer.listIds({ principal, resource, privilege, after, limit }, { db, revision })
    return { ids, next: ids.length === limit ? ids[ids.length - 1] as string : null, all }
  }

  /**
   * A page of the known resources of `resource` whose ids start with
   * `prefix`, each with its owner and live grant count: for a superuser
   * all of them, for anyone else those it manages (owns, or may `manage`
   * by the rule's own filter). Nothing else is read or counted.
   */
  async browse (viewer: Principal, resource: string, prefix: string, after: string | null, limit: number, db?: Kysely<any>): Promise<{ resources: BrowsedResource[], next: string | null }> {
    const { reader, authorizer } = this.#props
    if (!overrides(viewer) && (viewer.kind !== 'user' || viewer.id === null)) return { resources: [], next: null }
    const visible = overrides(viewer)
      ? null
      : managedBy(viewer.id as string, (id) => authorizer.filter({ principal: viewer, resource, privilege: MANAGE }, id))
    return await reader.browse({ resource, prefix, after, limit, visible }, db)
  }

  /**
   * What `subject` may use of `resource` (`privilege` decides what counts as
   * use) and through what, a keyset page at a time, from `listIds` and
   * explain. `viewer` sees it all when it is the subject itself or a
   * superuser; anyone else sees it within the resources it manages, and
   * nothing outside them, not even how many there are. `groupOnly`: the
   * subject stands for a group's members, and grants to everyone are left
   * out of what the group gives.
   */
  async access (viewer: Principal, subject: Principal, resource: string, privilege: string, after: string, limit: number, groupOnly = false, db?: Kysely<any>): Promise<AccessPage> {
    const whole = viewer === subject || overrides(viewer)
    const batch = whole ? limit : Math.max(limit, ACCESS_SCAN)
    let page = await this.listIds(subject, resource, privilege, after, batch, db)
    const items: AccessItem[] = []
    if (page.all) {
      // Every id is usable: the ids to show are the known ones in reach.
      const known = await this.browse(whole ? SUPERUSER_VIEW : viewer, resource, '', after === '' ? null : after, limit, db)
      for (const r of known.resources) items.push(await this.#accessItem(subject, resource, r.id, groupOnly, db))
      return { all: true, resources: items.filter((item) => item.privileges.length > 0), next: known.next }
    }
    // A page ends at its last item: `next` is always an id the viewer may see.
    const full = (): AccessPage => ({ all: false, resources: items, next: (items.at(-1) as AccessItem).id })
    for (;;) {
      const shown = whole ? page.ids : await this.#managed(viewer, resource, page.ids, db)
      for (const id of shown) {
        if (items.length === limit) return full()
        const item = await this.#accessItem(subject, resource, id, groupOnly, db)
        if (item.privileges.length > 0) items.push(item)
      }
      if (page.next === null) return { all: false, resources: items, next: null }
      if (items.length === limit) return full()
      page = await this.listIds(subject, resource, privilege, page.next, batch, db)
    }
  }

  async #accessItem (subject: Principal, resource: string, id: string, groupOnly: boolean, db?: Kysely<any>): Promise<AccessItem> {
    const explanation = await this.explain(subject, { resource, id }, null, db)
    const privileges = explanation.privileges
      .map((entry) => groupOnly ? { ...entry, via: entry.via.filter((reason) => reason.source !== 'anonymous') } : entry)
      .filter((entry) => entry.via.length > 0)
    return { id, privileges }
  }

  /** The ids among `ids` that `viewer` manages, in one query, as browse decides it (owner, or manage by the rule). */
  async #managed (viewer: Principal, resource: string, ids: readonly string[], db?: Kysely<any>): Promise<string[]> {
    if (ids.length === 0 || viewer.kind !== 'user' || viewer.id === null) return []
    const visible = managedBy(viewer.id, (id) => this.#props.authorizer.filter({ principal: viewer, resource, privilege: MANAGE }, id))
    const page = await this.#props.reader.browse({ resource, prefix: '', after: null, limit: ids.length, ids, visible }, db)
    return page.resources.map((r) => r.id)
  }

  async explain (principal: Principal, target: ResourceRef, privilege: string | null, db?: Kysely<any>): Promise<Explanation> {
    const { reader, policy, members } = this.#props
    const [sources, owner, ownedAbove] = await Promise.all([
      reader.sources(principal, target, db),
      target.id === null ? null : reader.getOwner(target as Instance, db),
      target.id === null ? [] : reader.ownedAbove(principal, target as Instance, db)
    ])
    // How the principal is in each group that holds something: only asked
    // when a group's grant counts, which is where a path needs explaining.
    const paths = sources.some((s) => s.grantee.kind === 'group')
      ? new Map((await members.groupsOf(principal, db)).map((p) => [p.group, p.via]))
      : new Map<string, string[]>()
    return explainStepUp(explain(principal, sources, owner, policy, privilege, { paths, ownedAbove, target }), principal, this.#props.stepUp ?? null, privilege, Date.now())
  }

  /**
   * The owner, the resource's own live grants, its type's, and those on its
   * ancestors (and their owners), nearest first, each with the ancestor it
   * comes from: everything that can count on it, as a manager reviews it.
   * Type-level grants of an ancestor's type do not flow down, so they are
   * not listed. Whether an edge of the hierarchy lets a privilege through
   * is explain's to say.
   */
  async managedGrants (target: Instance): Promise<{ owner: string | null, grants: ManagedGrant[] }> {
    const { reader, policy } = this.#props
    const now = Date.now()
    const live = (g: Grant) => !expired(g.expiresAt, now)
    const owned = (owner: string | null, from?: ManagedGrant['from']): ManagedGrant[] => owner === null
      ? []
      : [...policy.ownerPrivileges].map((privilege) => ({
          grantee: { kind: 'user' as const, id: owner },
          privilege,
          source: from === undefined ? 'owner' as const : 'ancestor' as const,
          ...(from === undefined ? {} : { from }),
          grantedBy: null,
          grantedAt: null,
          expiresAt: null,
          startsAt: null
        }))
    const [explicit, typeLevel, owner, ancestors] = await Promise.all([
      reader.listGrants(target), reader.listGrants({ resource: target.resource, id: null }), reader.getOwner(target), this.#props.tree.ancestors(target)
    ])
    const inherited = await Promise.all(ancestors.map(async (ancestor) => {
      const at = { resource: ancestor.resource, id: ancestor.id }
      const [held, heldBy] = await Promise.all([reader.listGrants(at), reader.getOwner(at)])
      return [
        ...owned(heldBy, { ...at, depth: ancestor.depth, owner: true }),
        ...held.filter(live).map((g) => ({ ...g, source: 'ancestor' as const, from: { ...at, depth: ancestor.depth, owner: false } }))
      ]
    }))
    const grants: ManagedGrant[] = [
      ...owned(owner),
      ...explicit.filter(live).map((g) => ({ ...g, source: 'explicit' as const })),
      ...typeLevel.filter(live).map((g) => ({ ...g, source: 'type' as const })),
      ...inherited.flat()
    ]
    return { owner, grants }
  }

  /** The type-level grants of `resource` that count now or will (expired ones never count again). */
  async typeGrants (resource: string): Promise<Grant[]> {
    const now = Date.now()
    return (await this.#props.reader.listGrants({ resource, id: null })).filter((g) => !expired(g.expiresAt, now))
  }

  async listGrants (target: ResourceRef, db?: Kysely<any>): Promise<Grant[]> {
    return await this.#props.reader.listGrants(target, db)
  }

  /** One page of the stored grants matching `filter`, in storage order. */
  async scanGrants (filter: GrantScan, after: string | null, limit: number, db?: Kysely<any>): Promise<{ grants: Grant[], next: string | null }> {
    return await this.#props.reader.scan(filter, after, limit, db)
  }

  /** A page of every recorded parent; `next` as `children`'s. */
  async scanParents (after: Instance | null, limit: number, db?: Kysely<any>): Promise<{ parents: Array<Instance & { parent: Instance }>, next: string | null }> {
    const parents = await this.#props.tree.scanParents(after, limit, db)
    const last = parents.length === limit ? parents[parents.length - 1] : undefined
    return { parents, next: last === undefined ? null : childCursor({ resource: last.resource, id: last.id }) }
  }

  async owner (target: Instance, db?: Kysely<any>): Promise<string | null> {
    return await this.#props.reader.getOwner(target, db)
  }

  async parent (child: Instance, db?: Kysely<any>): Promise<Instance | null> {
    return await this.#props.tree.getParent(child, db)
  }

  async ancestors (child: Instance, db?: Kysely<any>): Promise<Array<Instance & { depth: number }>> {
    return await this.#props.tree.ancestors(child, db)
  }

  /** A page of direct children; `next` is the `after` of the following page (see `childCursor`), or null after the last. */
  async children (parent: Instance, after: Instance | null, limit: number, db?: Kysely<any>): Promise<{ children: Instance[], next: string | null }> {
    const children = await this.#props.tree.children(parent, after, limit, db)
    const last = children.length === limit ? children[children.length - 1] : undefined
    return { children, next: last === undefined ? null : childCursor(last) }
  }

  async audit (filter: AuditFilter, db?: Kysely<any>): Promise<AuditEntry[]> {
    return await this.#props.audit.list(filter, db)
  }

  /** One page of the trail, newest first, and the `before` of the next page. */
  async auditPage (filter: AuditFilter): Promise<{ entries: AuditEntry[], next: string | null }> {
    const entries = await this.#props.audit.list({ ...filter, limit: filter.limit + 1 })
    const more = entries.length > filter.limit
    const page = entries.slice(0, filter.limit)
    return { entries: page, next: more ? (page.at(-1)?.seq ?? null) : null }
  }

  async verifyAudit (db?: Kysely<any>): Promise<AuditVerification> {
    const verification = await this.#props.audit.verify(db)
    if (!verification.ok) this.#props.auditFailed?.()
    return verification
  }
}
