// What the security self-check knows about a running instance, gathered
// once per check (lib/security/gather.ts) and judged by pure rules
// (lib/security/findings.ts). Nothing here does I/O.
import type { RouteManifestEntry } from '../../fastify-plugin.js'

/** One @fastify/jwt decorator: the root one, or one per namespace. */
export interface JwtFacts {
  /** `null` for `fastify.jwt` itself, else the namespace. */
  namespace: string | null
  /** `verify.algorithms` as configured; `null` when they are not pinned. */
  algorithms: readonly string[] | null
  /**
   * Whether the verification key is a fixed value, so forged tokens could be
   * tried against it. A key callback is never called by the check.
   */
  probed: boolean
  /** A token with `alg: none` and no signature verified. */
  acceptsUnsigned: boolean
  /** A token signed with a well-known sample secret verified. */
  acceptsSampleSecret: boolean
}

export interface RulesFacts {
  diagnostics: boolean
  lockout: boolean
  /** Groups with a whitelist (not a blacklist) that lets every address in: 0.0.0.0/0 or ::/0. */
  openWhitelists: readonly string[]
}

/** What the database says about the plugin's own connection. */
export interface DatabaseFacts {
  role: string
  superuser: boolean
  /** Role attributes the plugin never needs: createrole, createdb, bypassrls, replication. */
  attributes: readonly string[]
  /** The role owns (or is a member of the owner of) one of the plugin's tables. */
  ownsTables: boolean
  /** The role may UPDATE, DELETE or TRUNCATE the audit table. */
  auditWritable: boolean
  /** The role may create objects in the plugin's schema. */
  schemaCreate: boolean
  /** The session runs over TLS; `null` when the server does not say. */
  tls: boolean | null
  /** The server's address on this connection; `null` over a Unix socket or embedded. */
  serverAddress: string | null
  /** An embedded PostgreSQL (PGlite): no network, no other users. */
  embedded: boolean
}

/** What the plugin's own connection string says (with `connectionString` only). */
export interface ConnectionFacts {
  host: string
  /** Loopback or a Unix socket. */
  local: boolean
  /** sslmode (or ssl=true, or PGSSLMODE) asks for TLS. */
  tls: boolean
}

export interface SecurityFacts {
  /** `NODE_ENV === 'production'` when the check ran. */
  production: boolean
  routes: readonly RouteManifestEntry[]
  jwt: readonly JwtFacts[]
  server: {
    /** trustProxy is `true`: every address may set X-Forwarded-*. */
    trustsAnyProxy: boolean
    /** The server itself speaks TLS. */
    https: boolean
    logLevel: string | null
    /** An error handler was set on the instance the plugin is registered on. */
    customErrorHandler: boolean
  }
  rules: RulesFacts | null
  /** `null` when the grant routes are off. */
  grantApi: {
    /** The endpoint rules refuse plain HTTP on every grant route. */
    httpsOnly: boolean
    /** Whether @fastify/rate-limit was registered before the plugin, after it, or not at all. */
    rateLimit: 'before' | 'after' | 'none'
  } | null
  /** `superuserClaim` is set or `resolvePrincipal` can return superusers. */
  superusers: boolean
  connection: ConnectionFacts | null
  database: DatabaseFacts | { error: string }
  /**
   * The types `typeLevelGrants.forbid` names that have a type-level grant
   * stored anyway; empty when none (or when it could not be read: then
   * `db-unchecked` says why).
   */
  forbiddenTypeLevel: readonly string[]
}
