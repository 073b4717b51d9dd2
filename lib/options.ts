import type { Kysely } from 'kysely'
import type { FastifyDefaultDenyOptions } from '../fastify-plugin.js'
import { MANAGE, managingPrivileges, satisfiedByOf, type Policy } from './decision/policy.js'
import { isValidId } from './decision/ids.js'
import { acknowledgeOption } from './security/acknowledge-option.js'
import { booleanOption, claimOption, invalid, nameList, optionalString, positiveInteger, postgresUrl } from './option-values.js'
import { stepUpOption, type StepUpPolicy } from './step-up-option.js'
import { cacheOption, type CacheSettings } from './cache-option.js'
import { replicaOption, type ReplicaSettings } from './replica-option.js'
import { adminPageOption, type AdminPageSettings } from './admin/option.js'

export const DEFAULT_PRIVILEGES = ['read', 'edit', 'delete'] as const
export const DEFAULT_ANONYMOUS_PRIVILEGES = ['read'] as const
export const DEFAULT_GRANT_ROUTES_PREFIX = '/permissions'
export const DEFAULT_SCHEMA = 'public'
export const DEFAULT_USER_CLAIM = 'sub'
export const DEFAULT_GROUPS_CLAIM = 'groups'
export const DEFAULT_CHECK_TIMEOUT = 2000
/** A bulk of 1000 changes (the most one request may carry) takes about 2.5 s on PGlite. */
export const DEFAULT_WRITE_TIMEOUT = 10_000
export const DEFAULT_MAX_ID_LENGTH = 256
export const DEFAULT_MAX_GROUPS = 1000
/** Levels of stored group nesting that count (at most 32; 0: stored groups are off). */
export const DEFAULT_GROUP_DEPTH = 8
/** Most member–group pairs one membership change may settle: on the embedded database, a few tens of milliseconds. */
export const DEFAULT_MAX_MEMBERSHIP_CHANGE = 1000
/** The resource type whose `manage` lets its holder change a group's members. */
export const DEFAULT_GROUP_RESOURCE = 'group'
export const DEFAULT_LEVEL_CLAIM = 'level'
/** What a request acting at a level may still do: a demoted reader only reads. */
export const DEFAULT_LEVEL_PRIVILEGES: Readonly<Record<string, readonly string[]>> = Object.freeze({ reader: ['read'] })
export const DEFAULT_LOCKOUT_RETRY_AFTER = 300

const KNOWN_OPTIONS = new Set([
  'db', 'connectionString', 'schema', 'migrate', 'acknowledge', 'privileges', 'implies', 'ownerPrivileges',
  'hideForbidden', 'userClaim', 'groupsClaim', 'superuserClaim', 'resolvePrincipal',
  'checkTimeout', 'writeTimeout', 'maxIdLength', 'maxGroups', 'groupDepth', 'groupResource', 'maxMembershipChange',
  'rules', 'rulesFile', 'siteRulesFile', 'watchRules', 'levels', 'levelAliases', 'maxElevate',
  'levelClaim', 'levelPrivileges', 'lockoutStatus', 'lockoutRetryAfter',
  'grantRoutes', 'allowManageDelegation', 'anonymousPrivileges', 'canHold', 'resourceExists', 'stepUp', 'cache', 'replicas',
  'adminPage', 'resources'
])

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export interface Settings {
  db: Kysely<any> | null
  connectionString: string | null
  schema: string
  migrate: boolean
  /** Security findings the operator accepted: they never stop a production start-up. */
  acknowledge: ReadonlySet<string>
  privileges: ReadonlySet<string>
  /** For each privilege, every privilege whose holder also holds it (itself included). */
  satisfiedBy: ReadonlyMap<string, ReadonlySet<string>>
  ownerPrivileges: ReadonlySet<string>
  /** satisfiedBy and ownerPrivileges as the pure decision reads them. */
  policy: Policy
  hideForbidden: boolean
  userClaim: string
  groupsClaim: string
  superuserClaim: string | false
  resolvePrincipal: FastifyDefaultDenyOptions['resolvePrincipal'] | null
  checkTimeout: number
  writeTimeout: number
  maxIdLength: number
  maxGroups: number
  groupDepth: number
  groupResource: string
  maxMembershipChange: number
  /** null when no endpoint rules are configured. */
  rules: {
    inline: unknown
    rulesFile: string | null
    siteRulesFile: string | null
    watch: boolean
    levels: string[] | undefined
    levelAliases: Record<string, string> | undefined
    maxElevate: string | undefined
  } | null
  levelClaim: string
  /** For each level with a cap, the privileges a request at that level may exercise. */
  levelPrivileges: ReadonlyMap<string, ReadonlySet<string>>
  lockoutStatus: 403 | 503
  lockoutRetryAfter: number
  /** null when the grant-management routes are off. */
  grantRoutes: { prefix: string, securityScheme: string | null } | null
  /** null when the admin page is off. */
  adminPage: AdminPageSettings | null
  allowManageDelegation: boolean
  anonymousPrivileges: ReadonlySet<string>
  canHold: FastifyDefaultDenyOptions['canHold'] | null
  resourceExists: FastifyDefaultDenyOptions['resourceExists'] | null
  /** null when step-up is off. */
  stepUp: StepUpPolicy | null
  cache: CacheSettings | null
  /** null when no read replicas are configured. */
  replicas: ReplicaSettings | null
  /** The resource types declared beside the annotated ones; `any`: no type is refused. */
  resources: { any: boolean, declared: readonly string[] }
}

function isKysely (value: unknown): value is Kysely<any> {
  return typeof value === 'object' && value !== null &&
    typeof (value as Kysely<any>).selectFrom === 'function' &&
    typeof (value as Kysely<any>).withSchema === 'function'
}

/** The privilege names, what implies what, and what owners hold: the policy. */
function privilegeOptions (opts: Record<string, unknown>): { known: ReadonlySet<string>, policy: Policy } {
  const configured = opts.privileges === undefined ? [...DEFAULT_PRIVILEGES] : nameList('privileges', opts.privileges)
  const privileges = configured.includes(MANAGE) ? configured : [...configured, MANAGE]
  const known = new Set(privileges)

  const implies = opts.implies === undefined ? {} : opts.implies
  if (typeof implies !== 'object' || implies === null || Array.isArray(implies)) invalid('implies', 'must be an object')
  for (const [holder, included] of Object.entries(implies)) {
    if (!known.has(holder)) invalid('implies', `names unknown privilege '${holder}'`)
    for (const privilege of nameList(`implies.${holder}`, included)) {
      if (!known.has(privilege)) invalid(`implies.${holder}`, `names unknown privilege '${privilege}'`)
    }
  }

  // An empty list is allowed: owners then hold nothing beyond their grants.
  const ownerPrivileges = opts.ownerPrivileges === undefined ? privileges : nameList('ownerPrivileges', opts.ownerPrivileges, true)
  for (const privilege of ownerPrivileges) {
    if (!known.has(privilege)) invalid('ownerPrivileges', `names unknown privilege '${privilege}'`)
  }
  const satisfiedBy = satisfiedByOf(privileges, implies as Record<string, string[]>)
  return { known, policy: Object.freeze({ satisfiedBy, ownerPrivileges: new Set(ownerPrivileges) }) }
}

/** For each level with a cap, the privileges a request at that level may exercise. */
function levelPrivilegesOption (opts: Record<string, unknown>, known: ReadonlySet<string>): Map<string, ReadonlySet<string>> {
  const levelPrivileges = new Map<string, ReadonlySet<string>>()
  const rawCaps = opts.levelPrivileges === undefined ? DEFAULT_LEVEL_PRIVILEGES : opts.levelPrivileges
  if (typeof rawCaps !== 'object' || rawCaps === null || Array.isArray(rawCaps)) invalid('levelPrivileges', 'must be an object')
  for (const [level, allowed] of Object.entries(rawCaps as Record<string, unknown>)) {
    const names = nameList(`levelPrivileges.${level}`, allowed, true)
    for (const privilege of names) {
      if (!known.has(privilege)) invalid(`levelPrivileges.${level}`, `names unknown privilege '${privilege}'`)
    }
    levelPrivileges.set(level, new Set(names))
  }
  return levelPrivileges
}

/** What the anonymous principal may be granted: never a managing privilege. */
function anonymousPrivilegesOption (opts: Record<string, unknown>, known: ReadonlySet<string>, policy: Policy): ReadonlySet<string> {
  const anonymousPrivileges = opts.anonymousPrivileges === undefined
    ? [...DEFAULT_ANONYMOUS_PRIVILEGES]
    : nameList('anonymousPrivileges', opts.anonymousPrivileges, true)
  const managing = managingPrivileges(policy)
  for (const privilege of anonymousPrivileges) {
    if (!known.has(privilege)) invalid('anonymousPrivileges', `names unknown privilege '${privilege}'`)
    if (managing.has(privilege)) {
      invalid('anonymousPrivileges', `must not contain '${privilege}': it makes its holder a manager, and no one could be held responsible`)
    }
  }
  return new Set(anonymousPrivileges)
}

export function resolveOptions (raw: unknown): Settings {
  if (typeof raw !== 'object' || raw === null) invalid('options', 'must be an object')
  const opts = raw as Record<string, unknown>
  for (const key of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(key)) invalid(key, 'is not a known option')
  }

  const hasDb = opts.db !== undefined
  const hasUrl = opts.connectionString !== undefined
  if (hasDb === hasUrl) invalid('db', "or 'connectionString' is required (exactly one): there is no in-memory fallback")
  if (hasDb && !isKysely(opts.db)) invalid('db', 'must be a Kysely instance')
  if (hasUrl) postgresUrl('connectionString', opts.connectionString)

  const schema = opts.schema === undefined ? DEFAULT_SCHEMA : opts.schema
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) invalid('schema', 'must be a plain SQL identifier')

  const { known, policy } = privilegeOptions(opts)

  const superuserClaim = opts.superuserClaim === undefined ? false : opts.superuserClaim
  if (superuserClaim !== false && (typeof superuserClaim !== 'string' || superuserClaim.length === 0)) {
    invalid('superuserClaim', 'must be a non-empty string or false')
  }

  if (opts.resolvePrincipal !== undefined && typeof opts.resolvePrincipal !== 'function') {
    invalid('resolvePrincipal', 'must be a function')
  }
  const rules = rulesOptions(opts)
  const levelPrivileges = levelPrivilegesOption(opts, known)
  const lockoutStatus = opts.lockoutStatus === undefined ? 503 : opts.lockoutStatus
  if (lockoutStatus !== 503 && lockoutStatus !== 403) invalid('lockoutStatus', 'must be 503 or 403')

  const anonymousPrivileges = anonymousPrivilegesOption(opts, known, policy)
  for (const name of ['canHold', 'resourceExists']) {
    if (opts[name] !== undefined && typeof opts[name] !== 'function') invalid(name, 'must be a function')
  }

  const grantRoutes = grantRoutesOption(opts.grantRoutes)
  return Object.freeze({
    grantRoutes,
    adminPage: adminPageOption(opts.adminPage, grantRoutes?.prefix ?? null),
    allowManageDelegation: booleanOption(opts, 'allowManageDelegation', false),
    anonymousPrivileges,
    canHold: (opts.canHold as Settings['canHold']) ?? null,
    resourceExists: (opts.resourceExists as Settings['resourceExists']) ?? null,
    stepUp: stepUpOption(opts, known),
    cache: cacheOption(opts),
    replicas: replicaOption(opts),
    resources: resourcesOption(opts.resources),
    rules,
    levelClaim: claimOption(opts, 'levelClaim', DEFAULT_LEVEL_CLAIM),
    levelPrivileges,
    lockoutStatus,
    lockoutRetryAfter: positiveInteger(opts, 'lockoutRetryAfter', DEFAULT_LOCKOUT_RETRY_AFTER, 86_400),
    db: hasDb ? opts.db as Kysely<any> : null,
    connectionString: hasUrl ? opts.connectionString as string : null,
    schema,
    migrate: booleanOption(opts, 'migrate', true),
    acknowledge: acknowledgeOption(opts),
    privileges: known,
    satisfiedBy: policy.satisfiedBy,
    ownerPrivileges: policy.ownerPrivileges,
    policy,
    hideForbidden: booleanOption(opts, 'hideForbidden', false),
    userClaim: claimOption(opts, 'userClaim', DEFAULT_USER_CLAIM),
    groupsClaim: claimOption(opts, 'groupsClaim', DEFAULT_GROUPS_CLAIM),
    superuserClaim: superuserClaim as string | false,
    resolvePrincipal: (opts.resolvePrincipal as Settings['resolvePrincipal']) ?? null,
    checkTimeout: positiveInteger(opts, 'checkTimeout', DEFAULT_CHECK_TIMEOUT, 60_000),
    writeTimeout: positiveInteger(opts, 'writeTimeout', DEFAULT_WRITE_TIMEOUT, 600_000),
    maxIdLength: positiveInteger(opts, 'maxIdLength', DEFAULT_MAX_ID_LENGTH, 4096),
    maxGroups: positiveInteger(opts, 'maxGroups', DEFAULT_MAX_GROUPS, 100_000),
    groupDepth: opts.groupDepth === 0 ? 0 : positiveInteger(opts, 'groupDepth', DEFAULT_GROUP_DEPTH, 32),
    groupResource: groupResourceOption(opts.groupResource),
    maxMembershipChange: positiveInteger(opts, 'maxMembershipChange', DEFAULT_MAX_MEMBERSHIP_CHANGE, 100_000_000)
  })
}

function resourcesOption (value: unknown): Settings['resources'] {
  if (value === undefined) return { any: false, declared: [] }
  if (value === 'any') return { any: true, declared: [] }
  if (!Array.isArray(value) || !value.every((type) => isValidId(type, DEFAULT_MAX_ID_LENGTH))) {
    invalid('resources', "must be an array of resource types (non-empty strings) or 'any'")
  }
  if (new Set(value).size !== value.length) invalid('resources', 'must not repeat a resource type')
  return { any: false, declared: Object.freeze([...value as string[]]) }
}

function groupResourceOption (value: unknown): string {
  if (value !== undefined && !isValidId(value, DEFAULT_MAX_ID_LENGTH)) invalid('groupResource', 'must be a valid resource type')
  return (value as string | undefined) ?? DEFAULT_GROUP_RESOURCE
}

function rulesOptions (opts: Record<string, unknown>): Settings['rules'] {
  const rulesFile = optionalString(opts, 'rulesFile')
  const siteRulesFile = optionalString(opts, 'siteRulesFile')
  const hasFiles = rulesFile !== null || siteRulesFile !== null
  if (opts.rules !== undefined && hasFiles) invalid('rules', "and 'rulesFile'/'siteRulesFile' are exclusive")
  const watch = booleanOption(opts, 'watchRules', false)
  if (watch && !hasFiles) invalid('watchRules', "needs 'rulesFile' or 'siteRulesFile'")
  if (opts.rules === undefined && !hasFiles) {
    for (const name of ['levels', 'levelAliases', 'maxElevate']) {
      if (opts[name] !== undefined) invalid(name, 'only applies with endpoint rules')
    }
    return null
  }
  // The rules engine validates levels and the rules themselves, with messages
  // that point at the offending entry.
  return {
    inline: opts.rules,
    rulesFile,
    siteRulesFile,
    watch,
    levels: opts.levels as string[] | undefined,
    levelAliases: opts.levelAliases as Record<string, string> | undefined,
    maxElevate: opts.maxElevate as string | undefined
  }
}

function grantRoutesOption (value: unknown): Settings['grantRoutes'] {
  if (value === false) return null
  if (value === undefined) return { prefix: DEFAULT_GRANT_ROUTES_PREFIX, securityScheme: null }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('grantRoutes', 'must be false or { prefix, securityScheme }')
  const { prefix = DEFAULT_GRANT_ROUTES_PREFIX, securityScheme = false, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) invalid('grantRoutes', `has unknown key '${Object.keys(rest)[0]}'`)
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) invalid('grantRoutes.prefix', "must look like '/permissions'")
  if (securityScheme !== false && (typeof securityScheme !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(securityScheme))) {
    invalid('grantRoutes.securityScheme', 'must be false or the name of a security scheme (letters, digits, . _ -)')
  }
  return { prefix, securityScheme: securityScheme === false ? null : securityScheme as string }
}
