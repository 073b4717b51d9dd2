// The plugin's options, checked as a whole (no unknown key) and resolved into
// one frozen slice per feature: each component is handed its own slice and
// never the whole. The modules beside this one each own a slice.
import type { StepUpPolicy } from '../decision/step-up.js'
import type { CacheSettings } from '../cache/index.js'
import type { ReplicaSettings } from '../store/replicas.js'
import { adminPageOption, type AdminPageSettings } from './admin-page.js'
import { cacheOption } from './cache.js'
import { databaseOptions, type DatabaseOptions } from './database.js'
import { enforcementOptions, type EnforcementOptions } from './enforcement.js'
import { grantOptions, grantRoutesOption, type GrantOptions, type GrantRoutesOptions } from './grants.js'
import { groupOptions, type GroupOptions } from './groups.js'
import { hierarchyOption, type HierarchySettings } from './hierarchy.js'
import { levelOptions, type LevelOptions } from './levels.js'
import { observabilityOption, type ObservabilitySettings } from './observability.js'
import { policyOptions, type PolicyOptions } from './policy.js'
import { principalOptions, type PrincipalOptions } from './principal.js'
import { replicaOption } from './replicas.js'
import { resourcesOption, type ResourceOptions } from './resources.js'
import { rulesOptions, type RulesOptions } from './rules.js'
import { securityOptions, type SecurityOptions } from './security.js'
import { stepUpOption } from './step-up.js'
import { tokenReuseOption, type TokenReuseSettings } from './token-reuse.js'
import { typeLevelGrantsOption, type TypeLevelGrantOptions } from './type-level-grants.js'
import { invalid } from './values.js'

export type {
  AdminPageSettings, CacheSettings, DatabaseOptions, EnforcementOptions, GrantOptions, GrantRoutesOptions, GroupOptions,
  HierarchySettings, LevelOptions, ObservabilitySettings, PolicyOptions, PrincipalOptions, ReplicaSettings, ResourceOptions, RulesOptions, SecurityOptions, StepUpPolicy, TokenReuseSettings, TypeLevelGrantOptions
}

const KNOWN_OPTIONS = new Set([
  'db', 'connectionString', 'schema', 'migrate', 'acknowledge', 'privileges', 'implies', 'ownerPrivileges',
  'hideForbidden', 'userClaim', 'groupsClaim', 'superuserClaim', 'resolvePrincipal',
  'checkTimeout', 'writeTimeout', 'maxIdLength', 'maxGroups', 'groupDepth', 'groupResource', 'maxMembershipChange',
  'rules', 'rulesFile', 'siteRulesFile', 'watchRules', 'levels', 'levelAliases', 'maxElevate',
  'levelClaim', 'levelPrivileges', 'lockoutStatus', 'lockoutRetryAfter',
  'grantRoutes', 'allowManageDelegation', 'anonymousPrivileges', 'canHold', 'resourceExists', 'stepUp', 'cache', 'replicas',
  'adminPage', 'resources', 'observability', 'typeLevelGrants', 'hierarchy', 'tokenReuse'
])

/** Every option, resolved: one frozen slice per feature. */
export interface Settings {
  readonly database: DatabaseOptions
  /** The privileges, what implies what and what owners hold: the one policy. */
  readonly policy: PolicyOptions
  readonly principal: PrincipalOptions
  /** null when no endpoint rules are configured. */
  readonly rules: RulesOptions | null
  readonly levels: LevelOptions
  readonly enforcement: EnforcementOptions
  readonly grants: GrantOptions
  /** null when the grant-management routes are off. */
  readonly grantRoutes: GrantRoutesOptions | null
  /** null when the admin page is off. */
  readonly adminPage: AdminPageSettings | null
  /** null when step-up is off. */
  readonly stepUp: StepUpPolicy | null
  /** null when the decision cache is off. */
  readonly cache: CacheSettings | null
  /** null when no read replicas are configured. */
  readonly replicas: ReplicaSettings | null
  /** The resource types declared beside the annotated ones. */
  readonly resources: ResourceOptions
  /** The types no type-level grant may be written on (tenants). */
  readonly typeLevelGrants: TypeLevelGrantOptions
  readonly security: SecurityOptions
  readonly groups: GroupOptions
  readonly observability: ObservabilitySettings
  /** null when resources have no parents. */
  readonly hierarchy: HierarchySettings | null
  /** null when verified tokens are not reused. */
  readonly tokenReuse: TokenReuseSettings | null
}

export function resolveOptions (raw: unknown): Settings {
  if (typeof raw !== 'object' || raw === null) invalid('options', 'must be an object')
  const opts = raw as Record<string, unknown>
  for (const key of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(key)) invalid(key, 'is not a known option')
  }
  // Slices that depend on the policy (levels, grants, stepUp) are resolved after it.
  const database = databaseOptions(opts)
  const privileges = policyOptions(opts)
  // What passes down which edge of a hierarchy is part of the one policy every decision reads.
  const hierarchy = hierarchyOption(opts.hierarchy, privileges.privileges)
  const policy = hierarchy === null ? privileges : Object.freeze({ ...privileges, blocked: hierarchy.blocked })
  const principal = principalOptions(opts)
  const rules = rulesOptions(opts)
  const levels = levelOptions(opts, policy)
  const enforcement = enforcementOptions(opts)
  const grants = grantOptions(opts, policy)
  const grantRoutes = grantRoutesOption(opts.grantRoutes)
  return Object.freeze({
    database,
    policy,
    principal,
    rules,
    levels,
    enforcement,
    grants,
    grantRoutes,
    adminPage: adminPageOption(opts.adminPage, grantRoutes?.prefix ?? null),
    stepUp: stepUpOption(opts, policy.privileges),
    cache: cacheOption(opts),
    replicas: replicaOption(opts),
    resources: resourcesOption(opts.resources),
    typeLevelGrants: typeLevelGrantsOption(opts.typeLevelGrants),
    security: securityOptions(opts),
    groups: groupOptions(opts),
    observability: observabilityOption(opts, enforcement.checkTimeout),
    hierarchy,
    tokenReuse: tokenReuseOption(opts)
  })
}

/**
 * Throws the error registration would for these options, and hands nothing
 * back: for tools that judge options before any plugin starts (a policy-test
 * fixture's options), so that they are judged by this one validation.
 */
export function checkOptions (raw: unknown): void {
  resolveOptions(raw)
}
