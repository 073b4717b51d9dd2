// Public type surface of fastify-default-deny. lib/*.ts imports its option and
// annotation types from here, so this file is the single source of truth.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Expression, Kysely, PostgresPool, SqlBool } from 'kysely'

/**
 * The privilege names a route may require. Extend it by declaration merging
 * when you configure more privileges, so that a typo such as `'wirte'` does
 * not compile.
 *
 * @example
 * declare module 'fastify-default-deny' {
 *   interface DefaultDenyPrivileges { publish: true }
 * }
 */
export interface DefaultDenyPrivileges {
  read: true
  edit: true
  delete: true
  /** Always present: lets its holder list and change the grants on a resource. */
  manage: true
}

export type Privilege = keyof DefaultDenyPrivileges & string

/** Who is making the request, as resolved by the plugin before any check. */
export interface Principal {
  /** `'anonymous'` when the request carried no credentials at all. */
  kind: 'user' | 'anonymous'
  /** The stable user id (the `sub` claim by default); `null` for anonymous. */
  id: string | null
  /** Group ids the user belongs to (the `groups` claim by default). */
  groups: readonly string[]
  /** A superuser passes every check. */
  superuser: boolean
  /** The verified token payload; `null` for anonymous. */
  claims: Readonly<Record<string, unknown>> | null
}

/** A principal known to be a signed-in user: what `requireUser` returns. */
export type UserPrincipal = Principal & { kind: 'user', id: string }

/**
 * The signed-in user making the request, typed without assertions. Throws the
 * plugin's 401 (`FST_DEFAULT_DENY_UNAUTHORIZED`) when there is none (a
 * `'public'` route, an anonymous request), so a handler never runs on without
 * a user. On `'authenticated'` and resource routes that cannot happen: the
 * plugin refused the request before the handler.
 * @example
 * app.get('/me', { config: { permission: 'authenticated' } }, async (request) => ({ id: requireUser(request).id }))
 */
export declare function requireUser (request: FastifyRequest): UserPrincipal

/** A grantee: a user, a group, or everyone (including unauthenticated requests). */
export type GranteeRef =
  | { kind: 'user', id: string }
  | { kind: 'group', id: string }
  | { kind: 'anonymous' }

/** A resource instance, or every resource of a type when `id` is `null`. */
export interface ResourceRef {
  resource: string
  /** `null` addresses the whole type (a type-level grant). */
  id: string | null
}

/**
 * What a route requires, in `config.permission`.
 *
 * - `'public'`: no check at all (health checks, login).
 * - `'authenticated'`: any verified user; anonymous requests get 401.
 * - an object: a privilege on a resource, checked against stored grants.
 *
 * A route without a valid annotation is denied.
 */
export type PermissionAnnotation = PermissionKeyword | ResourcePermission

// Fastify intersects `config` with the type it infers from the literal, so a
// typo would otherwise collapse the object alternative to `never` and the
// compiler would complain about 'public' instead. The optional `never` keys
// keep the keywords out of that intersection; the branded string survives it,
// and its key is the message the compiler prints.
type PermissionKeyword = ('public' | 'authenticated') & { resource?: never, privilege?: never }

/** Shown by the compiler for a privilege `DefaultDenyPrivileges` does not list. */
export type UnknownPrivilege = string & { readonly 'is not a privilege: list it in DefaultDenyPrivileges (declaration merging)': never }

export interface ResourcePermission {
  /** The resource type, e.g. `'document'`. */
  resource: string
  /** The privilege the request needs on that resource. */
  privilege: Privilege | UnknownPrivilege
  /**
   * The route parameter that carries the resource id.
   * @default 'id'
   */
  param?: string
  /**
   * Where the id comes from instead of a route parameter, or `false` for a
   * type-level check (only a grant on every resource of the type passes).
   * The function runs in `onRequest`: the body is not parsed yet.
   */
  id?: false | ((request: FastifyRequest) => string | undefined)
}

/** Where the admin page is served, and how it gets the user's token. */
export interface AdminPageOptions {
  /**
   * Where the page is served, e.g. `'/permissions/ui'`.
   * @default the grant routes' prefix followed by '/ui'
   */
  prefix?: string
  /**
   * A path on the host's own origin that answers `{ "token": "…" }` for the
   * signed-in user of the host's session (the page fetches it with
   * `credentials: 'same-origin'`); without it, or when it does not answer
   * 200, the user pastes a token.
   */
  tokenUrl?: string
}

export interface CacheOptions {
  /** Most answers kept; the least recently used goes first. @default 10000 */
  maxEntries?: number
  /** Approximate memory the answers may take, in bytes. @default 16777216 (16 MiB) */
  maxBytes?: number
  /**
   * Longest an answer is served, in milliseconds, even when no change and no
   * scheduled start or expiry ends it sooner. @default 60000
   */
  maxAge?: number
  /**
   * Where to LISTEN for changes: a direct connection to the primary, not
   * through a pooler in transaction mode. Required with a `db` of your own
   * on PostgreSQL; defaults to `connectionString`. The embedded database
   * needs none.
   */
  listenConnectionString?: string
  /**
   * The staleness bound, in milliseconds: the cache serves answers only while
   * the LISTEN connection was proven current (every change acknowledged up to
   * then heard) within this long; it is probed four times as often. 100 to 600000.
   * @default 2000
   */
  heartbeat?: number
}

/**
 * The `tokenReuse` option: a request whose `Authorization` header is, byte
 * for byte, one verified before reuses that verification (its claims, its
 * principal, `request.user`) instead of calling `request.jwtVerify()`, within
 * the token's own `exp` and `nbf` and at most `maxAge` after it was verified.
 * Refused at registration when @fastify/jwt has a key function, a cookie or
 * `extractToken`, a claim matcher with its own `test()`, or a `verify.maxAge`
 * that is not a number of seconds.
 */
export interface TokenReuseOptions {
  /**
   * @fastify/jwt's `trusted` runs only when a token is verified, and the
   * plugin cannot see whether one is registered: say so. `false`: none is;
   * a function: the test a token must pass, run on every request, reused or
   * not: an answer other than `true` refuses it (401), a throw or a
   * rejection fails the request closed (503).
   */
  trusted: false | ((request: FastifyRequest, claims: Record<string, unknown>) => boolean | Promise<boolean>)
  /** Most tokens kept; the oldest goes first. @default 10000 */
  maxEntries?: number
  /** Approximate memory the tokens may take, in bytes. @default 8388608 (8 MiB) */
  maxBytes?: number
  /** Longest a token is reused after its verification, in milliseconds (at most 3600000). @default 60000 */
  maxAge?: number
}

export interface ReplicaOptions {
  /** Hot standbys of the primary (streaming replication), each a direct `postgres://` URL. */
  connectionStrings: readonly string[]
  /**
   * A read presenting no revision goes to a standby only while it is known
   * to hold everything the primary had committed at most this many
   * milliseconds ago. @default 1000
   */
  maxLag?: number
  /** How long a read presenting a revision waits for a standby to replay it before asking the primary, in milliseconds (0: never waits). @default 50 */
  wait?: number
  /** How often each standby's replay position (and the primary's) is read, in milliseconds; less than `maxLag`. @default 100 */
  pollInterval?: number
}

export interface ReplicaStats {
  /** host:port of the standby. */
  name: string
  /** Whether reads without a revision go to it now. */
  usable: boolean
  /** How old (ms) the newest primary position it is known to hold is; `null` before the first. */
  lag: number | null
  /** The furthest revision it is known to have replayed. */
  replayed: string
  /** Reads sent to it since start (a failed one is read again from the primary). */
  reads: number
}

export interface CacheStats {
  /** Answers are served and stored only while the change feed listens. */
  on: boolean
  entries: number
  /** Approximate. */
  bytes: number
  hits: number
  misses: number
  stores: number
  /** Answers not kept: a change touched them while their query ran, or the cache was off. */
  refused: number
  evictions: number
  /** Changes applied, from this instance's writes and from the database's notifications. */
  invalidations: number
}

/**
 * The `observability` option. Metrics are always counted in process
 * (`app.permissions.metrics()`); traces need `@opentelemetry/api` and a
 * registered SDK, and cost nothing without them.
 */
export interface ObservabilityOptions {
  /**
   * A prom-client `Registry` to register the plugin's metrics on (the one
   * your `/metrics` route serves, e.g. fastify-metrics' `client.register`).
   * Needs `prom-client` installed. They are removed from it when the app closes.
   */
  registry?: { registerMetric: (metric: never) => void, getSingleMetric: (name: string) => unknown } | undefined
  /** Prefix of every metric name. @default 'fastify_default_deny_' */
  prefix?: string | undefined
  /** A span per decision and per change, when an OpenTelemetry SDK is registered by the time the app is ready. @default true */
  traces?: boolean | undefined
  /** Put user and resource ids on spans (`enduser.id`, `default_deny.resource_id`): they are personal data in many deployments. @default false */
  traceIds?: boolean | undefined
  /** How long `app.permissions.health()` waits for the database, in milliseconds. @default the smaller of checkTimeout and 1000 */
  healthTimeout?: number | undefined
}

/** Words a decision is described by in metrics, spans and the diagnostics channel. */
export type DecisionReason = 'grant' | 'superuser' | 'authenticated' | 'no_grant' | 'not_found' | 'step_up' | 'rules' |
'unauthenticated' | 'unannotated' | 'lockout' | 'unavailable' | 'other'

export interface LatencySnapshot {
  count: number
  /** Seconds. */
  sum: number
  /** Cumulative: decisions that took at most `le` seconds. */
  buckets: Array<{ le: number, count: number }>
}

/** `app.permissions.metrics()`: the same figures as the prom-client metrics, as plain data. */
export interface MetricsSnapshot {
  /** Route pattern (`'(api)'`: app.permissions), resource type and privilege (empty for token-only routes), outcome, reason. */
  decisions: Array<{ route: string, resource: string, privilege: string, outcome: 'allow' | 'deny' | 'error', reason: DecisionReason, count: number }>
  /** By what answered: the cache, the database, or none needed. */
  latency: { cache: LatencySnapshot, database: LatencySnapshot, none: LatencySnapshot }
  /** Changes by use case (`grant`, `revoke`, `replace`, `add_member`, …) and outcome. */
  changes: Array<{ action: string, outcome: 'ok' | 'error', count: number }>
  auditVerificationFailures: number
  /** `null` without the cache. */
  cache: CacheStats | null
  /** The cache's LISTEN connection; `lag`: seconds since it was last proven current. `null` without the cache. */
  listen: { listening: boolean, reconnections: number, lag: number | null } | null
  standbys: ReplicaStats[] | null
  /** The last `health()` report's parts; `null` before the first. */
  health: { database: boolean, listen: boolean | null, standbys: boolean | null } | null
}

/** `app.permissions.health()`. */
export interface HealthReport {
  /** Every part passed. */
  ok: boolean
  /** `down`: the database did not answer (every check fails closed); `degraded`: LISTEN is down or a standby lags (checks go to the primary). */
  status: 'ok' | 'degraded' | 'down'
  database: { ok: boolean, ms: number, error: string | null }
  /** `null` without the cache. */
  listen: { ok: boolean } | null
  /** `ok`: within `replicas.maxLag`. `null` without replicas. */
  standbys: Array<{ name: string, ok: boolean, lag: number | null }> | null
}

/** A stored grant, as returned by the service API. */
export interface Grant extends ResourceRef {
  grantee: GranteeRef
  privilege: Privilege
  grantedBy: string | null
  grantedAt: Date
  expiresAt: Date | null
  /** A scheduled grant counts only from this instant. */
  startsAt: Date | null
}

export interface GrantInput extends ResourceRef {
  grantee: GranteeRef
  privilege: Privilege
  /** Recorded with the grant; the HTTP API always uses the verified principal. */
  grantedBy?: string | null
  /** The grant stops counting at this instant. */
  expiresAt?: Date | null
  /** The grant counts only from this instant (before `expiresAt`). */
  startsAt?: Date | null
}

export interface RevokeInput extends ResourceRef {
  grantee: GranteeRef
  privilege: Privilege
}

/** A member of a stored group: a user, or a group (whose members then belong too). */
export type MemberRef =
  | { kind: 'user', id: string }
  | { kind: 'group', id: string }

/** One stored membership. */
export interface Membership {
  group: string
  member: MemberRef
  /** The actor recorded when it was added. */
  addedBy: string | null
  addedAt: Date
}

/** A group a principal is in, and how it got there. */
export interface GroupPath {
  group: string
  /** The groups between the principal and `group`, nearest first: empty for a token's group or a direct membership. */
  via: string[]
  /** `token` when the chain starts at one of the token's groups, `membership` when at the user's own stored membership. */
  source: 'token' | 'membership'
}

/** Every service-API call accepts a Kysely transaction to run inside, and audit details. */
export interface ServiceCallOptions {
  /** A host transaction (or Kysely instance); the call commits with it. */
  db?: Kysely<any>
  /** Recorded in the audit trail as who made the change (defaults to `grantedBy`). */
  actor?: string | null
  /** Recorded in the audit trail: at most 500 characters, well-formed Unicode, no NUL. */
  reason?: string | null
  /** Recorded in the audit trail: at most 200 characters, well-formed Unicode, no NUL. */
  requestId?: string | null
  /**
   * For `check`, `checkMany` and `listIds`: answer from state at least as
   * fresh as this revision (one a write returned), past the decision cache's
   * unheard changes and any standby that has not replayed it. Anything that
   * is not a revision throws `FST_DEFAULT_DENY_INVALID_REVISION`.
   */
  revision?: string | null
}

/**
 * A change's position in the database's history, returned by every write
 * (`null` inside a transaction of yours, which commits later: call
 * `revision()` after your commit). Opaque: present it, never compare it.
 */
export type Revision = string | null

/** One appended audit record. `before`/`after` are sorted privilege names (owner ids for `owner`). */
export interface AuditEntry {
  seq: string
  at: Date
  actor: string | null
  /**
   * `purge`: expired grants deleted by `purgeExpired`, one entry per grantee
   * and resource, `before` the grants (entries written before schedules were
   * audited: resource `''`, `before` the count). `member`: a membership added (`after: ['member']`) or removed
   * (`before: ['member']`); `grantee` is the member, the resource the group
   * (`{ resource: groupResource, id: group }`). `schedule`: the privileges
   * stayed the same and only when one counts (`startsAt`, `expiresAt`) changed.
   * `parent`: the resource moved (`setParent`); `before` and `after` are the
   * old and new parent as `type/id` (empty: none).
   */
  action: 'grant' | 'revoke' | 'replace' | 'schedule' | 'owner' | 'forget' | 'purge' | 'member' | 'parent'
  grantee: GranteeRef | null
  resource: string
  id: string | null
  before: string[]
  after: string[]
  /**
   * The grants of `before` and `after` with their schedules (for `forget`,
   * `privilege` is the item as in `before`, `kind:id:privilege`). `null` on
   * entries that change no grant (owner, member, purge) and on entries
   * written before schedules were audited.
   */
  schedule: { before: ScheduledPrivilege[], after: ScheduledPrivilege[] } | null
  requestId: string | null
  reason: string | null
  /** SHA-256 over the previous entry's hash and this entry's fields. */
  hash: string
}

/** A privilege held with its schedule: it counts from `startsAt` (null: from its grant) until `expiresAt` (null: for good). */
export interface ScheduledPrivilege {
  privilege: string
  startsAt: Date | null
  expiresAt: Date | null
}

/** The result of recomputing the audit hash chain. */
export interface AuditVerification {
  ok: boolean
  /** How many entries were checked. */
  entries: number
  /** The `seq` of the first entry that does not fit, or `null`. */
  brokenAt: string | null
  /**
   * The entries that do not fit, in order, at most 100: `hash` when an
   * entry's content no longer matches its hash (edited), `link` when it does
   * not follow the entry before it (one was deleted or inserted).
   */
  broken: Array<{ seq: string, problem: 'hash' | 'link' }>
  /** How many entries do not fit, all of them counted. */
  brokenCount: number
}

export interface Reason {
  source: 'superuser' | 'owner' | 'user' | 'group' | 'anonymous'
  grantee?: GranteeRef
  privilege: string
  typeLevel: boolean
  /** For a group reached through stored memberships: the groups in between, nearest first. */
  via?: string[]
  /** Held (or, for `owner`, owned) on this ancestor of the resource, not on the resource itself. */
  ancestor?: { resource: string, id: string }
  /** With `ancestor`: the resources between it and the resource, nearest first. */
  through?: Array<{ resource: string, id: string }>
}

export interface Explanation {
  /** With `stepUp` on, a privilege that needs a second factor has `stepUp: true`. */
  privileges: Array<{ privilege: string, via: Reason[], stepUp?: boolean }>
  /** What the grants decide; step-up is reported apart, in `stepUp`. */
  decision?: 'allow' | 'deny'
  summary: string
  /** Present when the asked privilege needs a second factor (the `stepUp` option). */
  stepUp?: StepUpStatus
}

/** One known resource of a type, as `browse` lists it. */
export interface BrowsedResource {
  id: string
  owner: string | null
  /** Its live explicit grants (scheduled ones included, expired ones not). */
  grants: number
}

/** One resource a principal may use, with every privilege it holds there and through what (explain's reasons). */
export interface AccessEntry {
  id: string
  privileges: Explanation['privileges']
}

/** Whose view `browse` and `access` answer for: without it, the whole of it (the service API trusts its caller). */
export interface ViewerOption {
  /**
   * Answer as the grant API answers this principal: a superuser sees
   * everything, the subject itself (the same object) all of its own access,
   * anyone else only the resources it manages, nothing outside them counted
   * or named. Omitted: everything, as for a superuser.
   */
  viewer?: Principal
}

/** Whether the principal's token has the second factor the asked privilege needs. */
export interface StepUpStatus {
  privilege: string
  /**
   * `true` when the token satisfies step-up now, `false` when a request with
   * it is refused with 401 `FST_DEFAULT_DENY_STEP_UP_REQUIRED`, `null` when
   * the principal carries no token to judge (a user explained by id).
   */
  satisfied: boolean | null
  /** When `satisfied` is false: `factor` (no accepted value in the claim) or `max_age` (`auth_time` missing or too old). */
  missing?: 'factor' | 'max_age'
}

/**
 * Multi-factor step-up, read from the verified token on every request, so
 * it applies to tokens issued before it was turned on.
 */
export interface StepUpOptions {
  /**
   * The privileges whose routes need a second factor: the privilege a route
   * requires, whatever the caller holds that implies it. `manage` covers
   * every change made through the grant API, memberships included.
   * @default ['edit', 'delete', 'manage'], those of them that are configured
   */
  privileges?: readonly string[]
  /**
   * The claim that says how the user authenticated: an array (`amr`) or a
   * string (such as `acr`).
   * @default 'amr'
   */
  claim?: string
  /**
   * Any one of these in the claim is a second factor.
   * @default ['mfa', 'otp', 'hwk']
   */
  values?: readonly string[]
  /** Seconds since the token's `auth_time` within which the second factor counts; absent: any age. */
  maxAge?: number
  /**
   * The `acr_values` the 401 challenge asks for (RFC 9470).
   * @default `values` when `claim` is 'acr', otherwise none
   */
  acrValues?: readonly string[]
}

/** One resource instance, e.g. `{ resource: 'folder', id: 'f2' }`. */
export interface ResourceInstance {
  resource: string
  id: string
}

/** A parent type whose grants pass only some privileges down to the child type. */
export interface HierarchyParent {
  type: string
  /** The privileges a grant on (or ownership of) the parent passes down this edge, as asked for on the child. */
  inherits: readonly Privilege[]
}

/** Which resource types may be placed under which, and how deep trees grow. */
export interface HierarchyOptions {
  /**
   * Levels a tree may have (a document in a folder in a project: 2). A move that
   * would make any path longer is refused.
   * @default 16 (at most 64)
   */
  maxDepth?: number
  /**
   * A move made outside your transaction rewrites the paths of the resources
   * below the moved one in steps of this many, each a short transaction of
   * its own, so that other requests are served between them (on the
   * embedded database, which has one connection, they would otherwise wait
   * for the whole move). `setParent` returns once every step has run.
   * Between steps a resource not reached yet still decides as before the
   * move. Inside your transaction (`{ db: trx }`) a move is always whole.
   * @default 100 on the embedded database, 1,000 on PostgreSQL (at most 1,000,000)
   */
  moveStep?: number
  /**
   * For each child type, its allowed parent types: a type name passes every
   * privilege down, `{ type, inherits }` only those listed. Every type named
   * is a known resource type.
   * @example { document: { parents: ['folder', { type: 'project', inherits: ['read', 'edit'] }] }, folder: { parents: ['folder', 'project'] } }
   */
  types: Record<string, { parents: ReadonlyArray<string | HierarchyParent> }>
}

export interface CheckTarget extends ResourceRef {
  privilege: Privilege
}

/** The service API, decorated on the instance as `fastify.permissions`. */
/** Why one input of `validateGrants` would be refused. */
export interface GrantRefusal {
  /** Its position in the inputs. */
  index: number
  /** The stable code: `FST_DEFAULT_DENY_INVALID_GRANT` or `FST_DEFAULT_DENY_INELIGIBLE`. */
  code: string
  /** The field and the rule, e.g. `privilege must be one of read, edit, delete, manage (got "wirte")`. */
  message: string
  /** A JSON pointer into the input, e.g. `/privilege`, when one field is at fault. */
  field?: string
}

export interface DefaultDenyApi {
  /** The same decision the route hook makes, without throwing. */
  check (principal: Principal, target: CheckTarget, options?: ServiceCallOptions): Promise<boolean>
  /**
   * The route check for many resources of one type, in one round trip: one
   * answer per id, in the order given (at most 10,000 ids).
   *
   * @example
   * const visible = await app.permissions.checkMany(request.principal!, { resource: 'document', privilege: 'read', ids })
   * const shown = rows.filter((_, i) => visible[i])
   */
  checkMany (principal: Principal, target: { resource: string, privilege: Privilege, ids: readonly string[] }, options?: ServiceCallOptions): Promise<boolean[]>
  /**
   * The route check as a condition for your own query: true for the rows
   * whose id (`id`: a column reference such as `'document.id'`, or a Kysely
   * expression) the principal may use, so that paging, sorting, counting and
   * joins all happen in one query, inside PostgreSQL. The id is compared as
   * text, byte-exactly. Bound to the plugin's schema; no I/O of its own.
   *
   * @example
   * const page = await db.selectFrom('document').selectAll()
   *   .where(app.permissions.filter(request.principal!, { resource: 'document', privilege: 'read' }, 'document.id'))
   *   .where('id', '>', after).orderBy('id').limit(50).execute()
   */
  filter (principal: Principal, target: { resource: string, privilege: Privilege }, id: string | Expression<unknown>): Expression<SqlBool>
  /**
   * `filter` for list pages: one query first asks whether a type-level
   * grant allows every id (then the condition is `true`); otherwise the
   * condition is the set of ids the principal holds, which PostgreSQL joins
   * to your rows, reading the grants in id order. On a keyset page ordered
   * by an id column that sorts byte-wise (`collate "C"`), a page then reads
   * about a page's worth of grants and fetches each row by its key, however
   * few of the rows the principal may see; `filter` tests your rows one by
   * one until the page is full. Same answers as `filter` at the moment of
   * the first query (inside your transaction with `{ db: trx }`). With
   * `after` (your keyset page's last id), the condition keeps only the ids
   * after it, and a deep page reads the grants from there, not from the first.
   *
   * @example
   * const visible = await app.permissions.visible(request.principal!, { resource: 'document', privilege: 'read' }, 'document.id', { after })
   * const page = await db.selectFrom('document').selectAll().where(visible)
   *   .where('id', '>', after).orderBy('id').limit(50).execute()
   */
  visible (principal: Principal, target: { resource: string, privilege: Privilege }, id: string | Expression<unknown>, options?: ServiceCallOptions & { after?: string }): Promise<Expression<SqlBool>>
  /**
   * For resources kept outside PostgreSQL: one keyset page (sorted byte-wise)
   * of the ids of `resource` the principal holds a grant on or owns. `next`
   * is the `after` of the following page, `null` after the last. `all: true`
   * means a type-level grant (or being a superuser) allows every id of the
   * type: those ids are yours to list, not the plugin's.
   *
   * @example
   * let page = await app.permissions.listIds(principal, { resource: 'document', privilege: 'read', limit: 100 })
   * while (page.next !== null) page = await app.permissions.listIds(principal, { resource: 'document', privilege: 'read', after: page.next })
   */
  listIds (
    principal: Principal,
    target: { resource: string, privilege: Privilege, after?: string, limit?: number },
    options?: ServiceCallOptions
  ): Promise<{ ids: string[], next: string | null, all: boolean }>
  /**
   * A keyset page of the known resources of `resource` (those with an
   * owner, a parent or a grant), by id byte-wise, each with its owner and
   * its number of live explicit grants; `prefix` keeps the ids that start
   * with it, as plain text (`%`, `_` and `\` are themselves). `next` is the
   * `after` of the following page, `null` after the last. Without
   * `options.viewer` every known resource; with it, those the viewer
   * manages (all for a superuser), as `GET /permissions/resources/:resource`.
   * Reads only.
   * @default limit 25 (at most 100)
   *
   * @example
   * const page = await app.permissions.browse({ resource: 'document', prefix: 'q3_' }, { viewer: request.principal! })
   */
  browse (
    target: { resource: string, prefix?: string, after?: string | null, limit?: number },
    options?: ServiceCallOptions & ViewerOption
  ): Promise<{ resources: BrowsedResource[], next: string | null }>
  /**
   * What `principal` may use of `resource` (holds `privilege` on; default
   * the first configured privilege) and through what, a keyset page at a
   * time, from `listIds` and explain (`privilege` in the answer is the one
   * asked about). A group (`{ kind: 'group', id }`)
   * stands for its members: what they get through it, grants to everyone
   * left out. `all: true` says a type-level grant (or superuser status)
   * makes every resource of the type usable; the resources listed are then
   * the known ones in view. Without `options.viewer`, everything; with it,
   * as `GET /permissions/access/:resource` shows that viewer. Reads only.
   * @default limit 25 (at most 100)
   *
   * @example
   * const mine = await app.permissions.access(request.principal!, { resource: 'document' })
   * const staff = await app.permissions.access({ kind: 'group', id: 'staff' }, { resource: 'document', privilege: 'edit' })
   */
  access (
    principal: Principal | { kind: 'group', id: string },
    target: { resource: string, privilege?: Privilege, after?: string | null, limit?: number },
    options?: ServiceCallOptions & ViewerOption
  ): Promise<{ privilege: string, all: boolean, resources: AccessEntry[], next: string | null }>
  /**
   * Idempotent: `created` is false when the grant already existed; `changed`
   * is true when anything changed (the grant was created, or its `startsAt`
   * or `expiresAt` changed), and only then is an audit entry written.
   */
  grant (input: GrantInput, options?: ServiceCallOptions): Promise<{ created: boolean, changed: boolean, revision: Revision }>
  /**
   * Up to 10,000 grants, all or nothing, for imports: `created[i]` says
   * whether `inputs[i]` was new. A refused input throws with its position in
   * `error.index`, before anything is written. Instead of a lock per
   * resource (PostgreSQL's lock space, shared by every session, runs out
   * at some tens of thousands) it locks the grants table against other
   * changes until the transaction ends (checks go on), so call it in chunks
   * inside one transaction of yours for an import of any size.
   *
   * @example
   * await db.transaction().execute(async (trx) => {
   *   for (const chunk of chunks) await app.permissions.grantMany(chunk, { db: trx, actor: 'import' })
   * })
   */
  grantMany (inputs: GrantInput[], options?: ServiceCallOptions): Promise<{ created: boolean[], revision: Revision }>
  /**
   * Every refusal `grantMany` would give these inputs, without writing or
   * reading anything: the same checks (fields, privilege, known resource
   * type, schedule, eligibility and `canHold`), each input on its own.
   * Empty when all would be accepted. What an import checks first.
   */
  validateGrants (inputs: GrantInput[], options?: Pick<ServiceCallOptions, 'actor'>): Promise<GrantRefusal[]>
  revoke (input: RevokeInput, options?: ServiceCallOptions): Promise<{ removed: boolean, revision: Revision }>
  /** Makes `grantee` hold exactly `privileges` on the resource, atomically. */
  replace (
    input: ResourceRef & { grantee: GranteeRef, privileges: Privilege[], expiresAt?: Date | null, startsAt?: Date | null },
    options?: ServiceCallOptions
  ): Promise<{ before: string[], after: string[], revision: Revision }>
  /** What `principal` can do on the resource and why; with `privilege`, the decision and what is missing. */
  explain (principal: Principal, target: ResourceRef & { privilege?: Privilege }, options?: ServiceCallOptions): Promise<Explanation>
  /** The audit trail, newest first. */
  audit (
    filter?: { resource?: ResourceRef, grantee?: GranteeRef, before?: string, limit?: number },
    options?: ServiceCallOptions
  ): Promise<AuditEntry[]>
  /** Recomputes the hash chain of the whole trail and reports every entry that does not fit. */
  verifyAudit (options?: ServiceCallOptions): Promise<AuditVerification>
  /** Every grant on one resource (or on a type, with `id: null`). */
  listGrants (target: ResourceRef, options?: ServiceCallOptions): Promise<Grant[]>
  /**
   * Every stored grant, or those held directly by `grantee` (not through its
   * groups), or those on resources of type `resource`, a page of `limit`
   * (default 1000, at most 10,000) at a time in the order they were stored.
   * `next` is the `after` of the following page, `null` after the last.
   * Expired grants not yet purged are included.
   *
   * @example
   * let page = await app.permissions.scanGrants({ grantee: { kind: 'user', id: 'alice' } })
   * while (page.next !== null) page = await app.permissions.scanGrants({ grantee: { kind: 'user', id: 'alice' }, after: page.next })
   */
  scanGrants (
    filter?: { grantee?: GranteeRef, resource?: string, after?: string, limit?: number },
    options?: ServiceCallOptions
  ): Promise<{ grants: Grant[], next: string | null }>
  /**
   * Every recorded parent (see `setParent`), a page of `limit` (default
   * 1000, at most 10,000) at a time, by the child's type then id: what the
   * CLI's export writes. `next` is the `after` of the following page, `null`
   * after the last.
   */
  scanParents (
    page?: { after?: string | null, limit?: number },
    options?: ServiceCallOptions
  ): Promise<{ parents: Array<ResourceInstance & { parent: ResourceInstance }>, next: string | null }>
  /**
   * Makes `member` a member of the stored group `group`, audited (action
   * `member`). Every member of a group holds what the group holds, and so do
   * the members of a member group, up to `groupDepth` levels. Idempotent.
   */
  addMember (input: { group: string, member: MemberRef }, options?: ServiceCallOptions): Promise<{ added: boolean, revision: Revision }>
  /** Takes `member` out of `group`, audited. The next check no longer counts the group. */
  removeMember (input: { group: string, member: MemberRef }, options?: ServiceCallOptions): Promise<{ removed: boolean, revision: Revision }>
  /** The stored members of `group` (not those of its member groups). */
  listMembers (group: string, options?: ServiceCallOptions): Promise<Membership[]>
  /** Every group `principal` is in (its token's and the stored ones it reaches, nested), with the path to each. */
  groupsOf (principal: Principal, options?: ServiceCallOptions): Promise<GroupPath[]>
  /** Records the owner, who holds `ownerPrivileges` on the resource. `null` clears it. */
  setOwner (target: ResourceRef & { id: string, owner: string | null }, options?: ServiceCallOptions): Promise<{ revision: Revision }>
  getOwner (target: ResourceRef & { id: string }, options?: ServiceCallOptions): Promise<string | null>
  /**
   * Places `child` under `parent` (the `hierarchy` option says which types may
   * be under which), moves it, or (`null`) takes it out of its tree. Grants on
   * an ancestor, and its ownership, then count on `child` and everything below
   * it. Inside `options.db` it commits or rolls back with your transaction.
   * Audited as one entry (action `parent`) however large the moved subtree.
   * Refused with `FST_DEFAULT_DENY_INVALID_GRANT` (`error.field`) for a parent
   * type the option does not allow, a cycle, or a tree deeper than `maxDepth`.
   *
   * @example
   * await db.transaction().execute(async (trx) => {
   *   await trx.insertInto('documents').values({ id: 'd9', folder: 'f2' }).execute()
   *   await app.permissions.setParent({ resource: 'document', id: 'd9' }, { resource: 'folder', id: 'f2' }, { db: trx })
   * })
   */
  setParent (child: ResourceInstance, parent: ResourceInstance | null, options?: ServiceCallOptions): Promise<{ revision: Revision }>
  /** The recorded parent of `child`, or null. */
  getParent (child: ResourceInstance, options?: ServiceCallOptions): Promise<ResourceInstance | null>
  /** Every ancestor of `child`, nearest first (`depth` 1 is the parent). */
  ancestors (child: ResourceInstance, options?: ServiceCallOptions): Promise<Array<ResourceInstance & { depth: number }>>
  /**
   * One page of the direct children of `parent`, ordered by type then id.
   * `next` (null after the last page) is an opaque cursor: pass it as `after`
   * to read the following page.
   * @default limit 100 (at most 1000)
   */
  children (parent: ResourceInstance, page?: { after?: string | null, limit?: number }, options?: ServiceCallOptions): Promise<{ children: ResourceInstance[], next: string | null }>
  /** Deletes the owner record and every grant on a resource, e.g. when it is deleted. */
  forgetResource (target: ResourceRef & { id: string }, options?: ServiceCallOptions): Promise<{ revision: Revision }>
  /**
   * Deletes grants that expired, `batchSize` (default 1000) at a time, each
   * batch its own short transaction with its audit entries (action `purge`,
   * one per grantee and resource, each grant with its schedule). Expired grants never count;
   * this only keeps the table small. Not inside a transaction of yours.
   */
  purgeExpired (settings?: { batchSize?: number }, options?: ServiceCallOptions): Promise<{ purged: number, revision: Revision }>
  /**
   * Loads the endpoint rules again: from `source` when given, else from the
   * configured object or files. Invalid rules throw
   * `FST_DEFAULT_DENY_INVALID_RULES` and the rules in force stay in force.
   */
  reloadRules (source?: unknown): Promise<void>
  /** `null` without endpoint rules; otherwise when they were loaded and why the last reload failed. */
  rulesStatus (): { loadedAt: Date, lastError: string | null } | null
  /** The decision cache's state and counters since start; `null` when the `cache` option is off. */
  cacheStats (): CacheStats | null
  /**
   * Empties the `tokenReuse` map (after a key rotation, or to make every
   * token verified again at once) and returns how many tokens it held; 0
   * when the option is off.
   */
  forgetTokens (): number
  /**
   * The revision of everything committed so far, read from the primary: for
   * a change made inside your own transaction, call it after your commit and
   * hand that on.
   */
  revision (): Promise<string>
  /** Each read replica: whether reads go to it now, how far behind it is known to be (ms), and what it has replayed; `null` without `replicas`. */
  replicaStats (): ReplicaStats[] | null
  /** Decisions, latency, changes, cache, LISTEN, standbys and health as plain data, with or without a prom-client registry. */
  metrics (): MetricsSnapshot
  /**
   * The database answers within `observability.healthTimeout`, the cache's
   * LISTEN connection is up, the standbys are within `maxLag`. Never throws.
   *
   * @example
   * await app.register(underPressure, { healthCheck: async () => (await app.permissions.health()).status !== 'down' })
   */
  health (): Promise<HealthReport>
  /**
   * The security self-check: what in the set-up around the plugin (routes,
   * @fastify/jwt, the server, the endpoint rules, the grant API, the
   * database role and connection) weakens it. Runs at `ready` too. Safe to
   * call at any time; it runs one read-only catalog query.
   *
   * @example
   * const errors = (await app.permissions.checkSecurity()).filter((f) => f.level === 'error' && !f.acknowledged)
   */
  checkSecurity (): Promise<SecurityFinding[]>
  /** Every route of the instance and what it requires, sorted by url and method (HEAD routes included). */
  routeManifest (): RouteManifestEntry[]
  /** The principal used for requests without credentials. */
  readonly anonymous: Principal
  /** An error with the same status and body as a hidden forbidden resource. */
  notFound (): Error
}

/** The ids of the security self-check's findings (see "Security self-check" in the README). */
export type SecurityFindingId =
  | 'routes-unannotated' | 'routes-before-plugin'
  | 'jwt-unsigned-accepted' | 'jwt-sample-secret' | 'jwt-algorithms-unpinned'
  | 'trust-proxy-all' | 'rules-whitelist-everyone' | 'rules-diagnostics-on' | 'rules-lockout-on'
  | 'no-https' | 'grant-api-no-rate-limit' | 'no-superuser'
  | 'db-no-tls' | 'db-superuser' | 'db-role-too-broad' | 'db-unchecked'
  | 'logger-verbose' | 'custom-error-handler' | 'type-level-grants-forbidden'

/** One finding of `checkSecurity()`. */
export interface SecurityFinding {
  id: SecurityFindingId
  /** With `NODE_ENV=production`, an `error` not acknowledged stops start-up (`FST_DEFAULT_DENY_INSECURE`). */
  level: 'error' | 'warning'
  message: string
  /** What to do about it. */
  hint: string
  /** Named in the `acknowledge` option: reported, never logged as a warning, never stops start-up. */
  acknowledged: boolean
}

/** One route (one method of it) as the plugin sees it. */
export interface RouteManifestEntry {
  method: string
  url: string
  /**
   * What a request needs: `public`, `authenticated`, a privilege on a
   * resource, or nothing that can be met: `unannotated` (no annotation) and
   * `before-plugin` (registered before the plugin, so its annotation was
   * never read) are denied to everyone.
   */
  access: 'public' | 'authenticated' | 'resource' | 'unannotated' | 'before-plugin'
  /** For `resource`: the resource type. */
  resource?: string
  /** For `resource`: the privilege required. */
  privilege?: string
  /** For `resource`: where the id comes from: a route parameter, your id function, or none (`type`: a type-level check). */
  idFrom?: { param: string } | 'function' | 'type'
  /** One of the plugin's own grant-API routes. */
  grantApi: boolean
}

export interface FastifyDefaultDenyOptions {
  /**
   * A Kysely instance owned by the host (the plugin never destroys it).
   * Exactly one of `db` and `connectionString` is required.
   */
  db?: Kysely<any> | undefined
  /** A PostgreSQL URL; the plugin then owns a `pg` pool and closes it on `onClose`. */
  connectionString?: string | undefined
  /**
   * The PostgreSQL schema holding the plugin's tables.
   * @default 'public'
   */
  schema?: string | undefined
  /**
   * Apply the plugin's migrations when it starts.
   * @default true
   */
  migrate?: boolean | undefined
  /**
   * Security findings you have looked at and accept, by id: they are still
   * reported, but no longer logged as warnings nor stop a production
   * start-up. An unknown id is an option error.
   * @default []
   */
  acknowledge?: readonly SecurityFindingId[] | undefined
  /**
   * The privilege names routes and grants may use.
   * @default ['read', 'edit', 'delete']
   */
  privileges?: readonly string[] | undefined
  /**
   * Privileges that include others, e.g. `{ edit: ['read'] }`. Transitive.
   * Privileges are independent unless listed here.
   * @default {}
   */
  implies?: Readonly<Record<string, readonly string[]>> | undefined
  /**
   * What the recorded owner of a resource holds on it.
   * @default every configured privilege
   */
  ownerPrivileges?: readonly string[] | undefined
  /**
   * Answer a forbidden resource exactly like a missing one (404).
   * @default false
   */
  hideForbidden?: boolean | undefined
  /**
   * The claim holding the user id.
   * @default 'sub'
   */
  userClaim?: string | undefined
  /**
   * The claim holding the array of group ids.
   * @default 'groups'
   */
  groupsClaim?: string | undefined
  /**
   * A claim that makes the user a superuser when it is exactly `true`;
   * `false` disables superusers.
   * @default false
   */
  superuserClaim?: string | false | undefined
  /**
   * Builds the principal from the verified claims instead of the claim
   * options. Throwing (or rejecting) fails the request closed with 503.
   */
  resolvePrincipal?: (request: FastifyRequest, claims: Record<string, unknown>) =>
    Omit<Principal, 'kind' | 'claims'> | Promise<Omit<Principal, 'kind' | 'claims'>>
  /**
   * Milliseconds a grant check may wait on the database before the request
   * fails closed (503). With `connectionString`, PostgreSQL also cancels the
   * plugin's statements past it.
   * @default 2000
   */
  checkTimeout?: number | undefined
  /**
   * Milliseconds a change of grants or owner (grant API or service API outside
   * your transaction) may take in all; past it the change is rolled back and
   * answered with 503. Every statement and lock wait of the change is limited
   * on the server to the time left.
   * @default 10000
   */
  writeTimeout?: number | undefined
  /**
   * The most groups a principal may carry; a token with more is refused (401).
   * @default 1000
   */
  maxGroups?: number | undefined
  /**
   * How many levels of stored group nesting count (1 to 32): level 1 is the
   * token's groups and the user's own memberships, level 2 the groups those
   * are members of, and so on; a longer chain is cut off there (a cycle
   * simply ends). Every check, filter and `checkMany` stays one query.
   * `0` turns stored groups off: only the token's groups count, the check
   * skips the membership walk, and memberships cannot be added.
   * @default 8
   */
  groupDepth?: number | undefined
  /**
   * The resource type that stands for stored groups: whoever may manage
   * `{ resource: groupResource, id: group }` (its owner, a superuser, a holder
   * of `manage`) may add and remove that group's members, and so give anyone,
   * themselves included, everything the group holds.
   * @default 'group'
   */
  groupResource?: string | undefined
  /**
   * The most member–group pairs one membership change (`addMember`,
   * `removeMember`, the membership routes) may add, remove or move: each
   * member that joins or leaves a group, however indirectly, or whose
   * distance to it changes, counts once. A larger change is refused with
   * 422 `FST_DEFAULT_DENY_MEMBERSHIP_LIMIT` and writes nothing. On the
   * embedded database every other request waits while a change runs, so
   * raise it with care. Memberships written with plain SQL are not limited.
   * @default 1000
   */
  maxMembershipChange?: number | undefined
  /**
   * The longest resource or principal id accepted, in characters.
   * @default 256
   */
  maxIdLength?: number | undefined

  /**
   * The grant-management HTTP API, mounted under `prefix`; `false` turns it off.
   * @default { prefix: '/permissions' }
   */
  grantRoutes?: false | {
    /** @default '/permissions' */
    prefix?: string
    /**
     * The OpenAPI security scheme the operations name (declare it in
     * @fastify/swagger's `components.securitySchemes`), e.g. `'bearerAuth'`.
     * @default false
     */
    securityScheme?: string | false
  }
  /**
   * The admin page: a small single-page app, shipped in the package, for
   * people who manage access. Its files are public; every piece of data it
   * shows or changes goes through the grant API with the user's own token,
   * so it can never do more than that user may through the API. Needs the
   * grant routes. Off when absent or `false`.
   * @default false
   */
  adminPage?: false | AdminPageOptions | undefined
  /**
   * Whether a manager who is not the owner may grant `manage` to others.
   * @default false
   */
  allowManageDelegation?: boolean | undefined
  /**
   * The only privileges the anonymous principal may be granted (`manage` never).
   * @default ['read']
   */
  anonymousPrivileges?: readonly string[] | undefined
  /**
   * Your own eligibility rule, checked on every grant after the built-in one:
   * return `false` to refuse (422 `FST_DEFAULT_DENY_INELIGIBLE`).
   */
  canHold?: ((grantee: GranteeRef, privilege: Privilege, target: ResourceRef) => boolean | Promise<boolean>) | undefined
  /**
   * Tells the grant API whether a resource exists: grants on resources that
   * do not are refused with 404.
   */
  resourceExists?: ((resource: string, id: string) => boolean | Promise<boolean>) | undefined
  /**
   * Resource types a grant may name besides those of your route annotations
   * and `groupResource`: the types you check only through the service API.
   * A grant, owner or decision on any other type is refused with the nearest
   * known name (a typo would never count). `'any'` turns the check off.
   * @default [] (only annotated types and `groupResource`)
   * @example ['invoice']
   */
  resources?: readonly string[] | 'any' | undefined
  /**
   * Tenants: the resource types on which no grant may name the whole type
   * (`id: null`). Such a grant counts on every resource of the type, so in
   * a multi-tenant application it would span tenants. Every write path (the
   * service API, grantMany, the grant API, the CLI and its import) refuses
   * one with the field and the rule; a type-level grant already stored on
   * such a type is the security finding `type-level-grants-forbidden`. The
   * types named here count as known resource types.
   * @default { forbid: [] }
   * @example { forbid: ['org', 'project', 'document'] }
   */
  typeLevelGrants?: { forbid: readonly string[] } | undefined
  /**
   * Resource hierarchies: a grant on a resource (and its ownership) counts on
   * everything below it, through parents recorded with `setParent`. Type-level
   * grants do not flow down. Off when absent or `false`.
   */
  hierarchy?: HierarchyOptions | false | undefined
  /**
   * Require a second authentication factor for some privileges (by default
   * every change: `edit`, `delete` and grant management), read from the
   * token's claims; reads stay unaffected. Off when absent or `false`.
   */
  stepUp?: StepUpOptions | false | undefined
  /**
   * The decision cache: route checks (and `check()` outside a transaction)
   * answered from memory, invalidated by every committed change of grants,
   * owners and memberships, whoever made it. `true` for the defaults. Off
   * when absent or `false`.
   */
  cache?: boolean | CacheOptions | undefined
  /**
   * Reuse the verification of a token seen before (same bytes, within its
   * `exp` and `nbf`, bounded in number, memory and age). Off when absent or
   * `false`; see the README's "Reusing verified tokens".
   */
  tokenReuse?: TokenReuseOptions | false | undefined
  /**
   * Read replicas: the route check (without the cache), `check`,
   * `checkMany` and `listIds` may read from a hot standby fresh enough for
   * them; writes, the grant API and explain stay on the primary. PostgreSQL
   * only. Off when absent or `false`.
   */
  replicas?: ReplicaOptions | false | undefined

  /** Metrics registry, traces and the health check's timeout. */
  observability?: ObservabilityOptions | undefined

  /**
   * Endpoint rules given inline (the `{ paths, groups, settings }` object
   * described under "Endpoint rules" in the README). Exclusive with
   * `rulesFile` / `siteRulesFile`.
   */
  rules?: EndpointRules | undefined
  /** The default rules file (JSON). */
  rulesFile?: string | undefined
  /** A site rules file: when it exists it replaces `rulesFile` entirely. */
  siteRulesFile?: string | undefined
  /**
   * Reload the rules files when they change.
   * @default false
   */
  watchRules?: boolean | undefined
  /**
   * User levels, lowest first, for `userlevel`, `elevate` and `demote`.
   * @default ['reader', 'builder', 'creator', 'admin', 'superuser']
   */
  levels?: string[] | undefined
  /**
   * Other names for levels.
   * @default { editor: 'builder' } (with the default levels only)
   */
  levelAliases?: Record<string, string> | undefined
  /**
   * The highest level `elevate` may raise a request to; must be below `admin`.
   * @default 'creator'
   */
  maxElevate?: string | undefined
  /**
   * The claim holding the user's level.
   * @default 'level'
   */
  levelClaim?: string | undefined
  /**
   * With endpoint rules: the privileges a request acting at a level may still
   * exercise. Levels only restrict; they never grant.
   * @default { reader: ['read'] }
   */
  levelPrivileges?: Record<string, readonly string[]> | undefined
  /**
   * The status of every response while `settings.lockout` is on.
   * @default 503
   */
  lockoutStatus?: 503 | 403 | undefined
  /**
   * The `Retry-After` seconds sent with a 503 lockout.
   * @default 300
   */
  lockoutRetryAfter?: number | undefined
}

/** The endpoint rules file: paths → group names, groups → rules. */
export interface EndpointRules {
  /** Path key → group name. A key ending in `/` covers a whole folder. */
  paths: Record<string, string>
  /** Group name → one rule, an AND-list of rules, or an OR-list of AND-lists. */
  groups: Record<string, EndpointRule | EndpointRule[] | EndpointRule[][]>
  settings?: {
    /** Name the failing path key, group and rule type in denials. @default false */
    diagnostics?: boolean
    /** Deny every request. @default false */
    lockout?: boolean
  }
}

export type EndpointRule = {
  /** Stop evaluating less specific paths when the alternative holding this rule passes. */
  terminal?: boolean | 0 | 1
  /** The rule fails unless the request came over HTTPS. */
  secure?: boolean | 0 | 1
  /** Raise the request's level (at most `maxElevate`) when the alternative passes. */
  elevate?: string
  /** Cap the request's level when the alternative passes. */
  demote?: string
  /** `param_<NAME>`: every value of parameter NAME must fully match this pattern. */
  [param: `param_${string}`]: string
} & (
  | { type: 'block' }
  | { type: 'open' }
  | {
    type: 'whitelist'
    /** IPv4/IPv6 addresses, `localhost`, `a.b.c.x-y` last-octet ranges or CIDR blocks. */
    list: string[]
    /** Turns the whitelist into a blacklist. */
    deny?: boolean
  }
  | {
    type: 'isuser'
    /** Exact, case-sensitive user names. */
    list: string[]
    deny?: boolean
  }
  | {
    type: 'userlevel'
    /** Minimum level, by name or alias. */
    level: string
  }
  | {
    type: 'token'
    /** Header name, matched case-insensitively. */
    header: string
    /** Accepted token(s). `list` is a synonym; give one of the two. */
    value?: string | string[]
    list?: string[]
  }
  | {
    type: 'cert'
    /** Pattern the whole subject CN must match. */
    name?: string
  }
)

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What this route requires. Unannotated routes are denied. */
    permission?: PermissionAnnotation
  }
  interface FastifyRequest {
    /** Set by the plugin before the handler runs; `null` on `'public'` routes. */
    principal: Principal | null
    /**
     * With endpoint rules: the level the request acts at after `elevate` and
     * `demote`; `null` without rules or without a level.
     */
    accessLevel: string | null
  }
  interface FastifyInstance {
    permissions: DefaultDenyApi
  }
}

export declare const fastifyDefaultDeny: FastifyPluginAsync<FastifyDefaultDenyOptions>
export default fastifyDefaultDeny

export interface MigrateOptions {
  /** @default 'public' */
  schema?: string
  /** `'latest'` applies every pending migration; `'down'` reverts the last one. @default 'latest' */
  direction?: 'latest' | 'down'
}

/**
 * Applies (or with `'down'`, reverts) the plugin's migrations; returns the
 * names of those that ran.
 *
 * @example
 * // A deploy step, when the plugin runs with `migrate: false`:
 * await runMigrations(db, { schema: 'authz' })
 */
export declare function runMigrations (db: Kysely<any>, options?: MigrateOptions): Promise<string[]>

export interface PostgresOptions {
  /** Most connections the pool opens. @default 10 (pg's default) */
  max?: number
  /** How long to wait for a free connection before failing. @default no limit */
  connectionTimeoutMillis?: number
  /**
   * Server-side limit on every statement of the pool's sessions: PostgreSQL
   * cancels a statement that runs longer, so it stops holding the connection.
   * @default no limit
   */
  statementTimeout?: number
  /**
   * Client-side limit: a connection whose statement gets no answer this long
   * (a stalled network, where the server's own limit cannot help) is closed
   * and replaced. @default `statementTimeout` plus one second, or no limit
   */
  queryTimeout?: number
  /**
   * Told about every connection error: of an idle connection, and of one in
   * use when its backend is terminated or its socket reset. pg emits these as
   * `'error'` events, which crash the process when nobody listens.
   */
  onError?: (err: Error) => void
  /**
   * Plan every parameterized statement of the pool's sessions once, generically
   * (`plan_cache_mode = force_generic_plan`). PostgreSQL otherwise may judge a
   * custom plan cheaper for the route check and plan it anew on every call,
   * which costs more than running it. The plugin sets this on the pool it
   * owns (`connectionString`); set it on yours when the pool serves the plugin
   * alone, or `ALTER ROLE … SET plan_cache_mode = force_generic_plan` for a
   * role of its own. @default false
   */
  genericPlans?: boolean
}

/**
 * A Kysely instance on its own guarded `pg` pool; `db.destroy()` ends the pool.
 *
 * @example
 * const db = postgresKysely(process.env.DATABASE_URL, { statementTimeout: 2000, onError: (err) => app.log.error({ err }) })
 * await app.register(fastifyDefaultDeny, { db })
 */
export declare function postgresKysely<DB = any> (connectionString: string, options?: PostgresOptions): Kysely<DB>

/** What `guardPool` needs of a `pg.Pool`. */
export interface GuardablePool {
  on (event: 'error', listener: (err: Error) => void): unknown
  on (event: 'connect', listener: (client: { on (event: 'error', listener: (err: Error) => void): unknown }) => void): unknown
}

/**
 * Attaches the listeners that keep a lost connection from crashing the
 * process (see "Database failures" in the README). Call it on your own
 * `pg.Pool` before you give it to Kysely.
 *
 * @example
 * const pool = guardPool(new pg.Pool({ connectionString }), (err) => app.log.error({ err }))
 * const db = new Kysely({ dialect: new PostgresDialect({ pool }) })
 */
export declare function guardPool<P extends GuardablePool> (pool: P, onError?: (err: Error) => void): P

/**
 * Your own guarded `pg.Pool` as Kysely's pool, the way the plugin uses its
 * own: the route check runs as a named prepared statement (parsed and
 * planned once per connection), and a connection whose query got no answer
 * within `query_timeout` is closed instead of reused.
 *
 * @example
 * const pool = guardPool(new pg.Pool({ connectionString, statement_timeout: 2000 }), (err) => app.log.error({ err }))
 * const db = new Kysely({ dialect: new PostgresDialect({ pool: kyselyPool(pool) }) })
 */
export declare function kyselyPool (pool: { connect (): Promise<any>, end (): Promise<void> }): PostgresPool

/** The stable error codes; each is an `@fastify/error` constructor. */
export declare const codes: {
  FST_DEFAULT_DENY_UNAUTHORIZED: ErrorConstructor0
  FST_DEFAULT_DENY_FORBIDDEN: ErrorConstructor0
  FST_DEFAULT_DENY_NOT_FOUND: ErrorConstructor0
  FST_DEFAULT_DENY_UNAVAILABLE: ErrorConstructor0
  FST_DEFAULT_DENY_INVALID_OPTION: ErrorConstructor2
  FST_DEFAULT_DENY_INVALID_ROUTE_CONFIG: ErrorConstructor2
  FST_DEFAULT_DENY_INVALID_GRANT: ErrorConstructor1
  FST_DEFAULT_DENY_MIGRATION_FAILED: ErrorConstructor1
  FST_DEFAULT_DENY_INSECURE: ErrorConstructor1
  FST_DEFAULT_DENY_INVALID_REQUEST: ErrorConstructor1
  FST_DEFAULT_DENY_ESCALATION: ErrorConstructor0
  FST_DEFAULT_DENY_INELIGIBLE: ErrorConstructor0
  FST_DEFAULT_DENY_LAST_MANAGER: ErrorConstructor0
  FST_DEFAULT_DENY_RULE_DENIED: ErrorConstructor1
  FST_DEFAULT_DENY_LOCKOUT: ErrorConstructor0
  FST_DEFAULT_DENY_INVALID_RULES: ErrorConstructor1
  FST_DEFAULT_DENY_ALREADY_REGISTERED: ErrorConstructor0
  FST_DEFAULT_DENY_JWT_MISSING: ErrorConstructor0
  FST_DEFAULT_DENY_STEP_UP_REQUIRED: ErrorConstructor0
  FST_DEFAULT_DENY_INVALID_REVISION: ErrorConstructor0
  FST_DEFAULT_DENY_DATABASE_LOCKED: ErrorConstructor2
  FST_DEFAULT_DENY_MEMBERSHIP_LIMIT: ErrorConstructor1
}

export interface DefaultDenyError extends Error {
  code: string
  statusCode: number
}
type ErrorConstructor0 = new () => DefaultDenyError
type ErrorConstructor1 = new (a: string) => DefaultDenyError
type ErrorConstructor2 = new (a: string, b: string) => DefaultDenyError
