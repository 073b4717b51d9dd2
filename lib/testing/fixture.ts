// A policy-test fixture: what the loader hands the runner once the file has
// parsed, matched the schema and passed the plugin's own option checks.

/** 'user:ID', 'group:ID' or 'anonymous'. */
export type GranteeText = string

export interface Asking {
  principal: string
  groups?: string[]
  superuser?: boolean
}

export interface DecisionTarget extends Asking {
  resource: string
  id: string
  privilege: string
}

export interface ListTarget extends Asking {
  resource: string
  privilege: string
}

export interface WorldGrant {
  grantee: GranteeText
  privilege: string
  resource: string
  id?: string
  startsAt?: string
  expiresAt?: string
}

export interface World {
  grants?: WorldGrant[]
  owners?: Array<{ resource: string, id: string, owner: string }>
  members?: Array<{ group: string, member: string }>
  parents?: Array<{ resource: string, id: string, parent: string }>
}

export interface ChangeTarget {
  as: string
  groups?: string[]
  resource: string
  id: string
  grant?: { grantee: GranteeText, privilege: string, expiresAt?: string, startsAt?: string }
  revoke?: { grantee: GranteeText, privilege: string }
  owner?: string | null
}

export interface ExplainNames {
  source: 'superuser' | 'owner' | 'user' | 'group' | 'anonymous'
  grantee?: GranteeText
  privilege?: string
  typeLevel?: boolean
  ancestor?: string
}

export type Assertion = { description?: string } & (
  | { allow: DecisionTarget }
  | { deny: DecisionTarget }
  | { listIds: ListTarget, ids?: string[], all?: boolean }
  | { filter: ListTarget & { rows: string[] }, keeps: string[] }
  | { explain: Asking & { resource: string, id: string, privilege?: string }, names: ExplainNames }
  | { change: ChangeTarget, refused: string }
  | { route: string, as?: string, groups?: string[], params?: Record<string, string>, body?: unknown, status: number }
)

export type AssertionKind = 'allow' | 'deny' | 'listIds' | 'filter' | 'explain' | 'change' | 'route'
export const ASSERTION_KINDS: readonly AssertionKind[] = ['allow', 'deny', 'listIds', 'filter', 'explain', 'change', 'route']

export const kindOf = (assertion: Assertion): AssertionKind => ASSERTION_KINDS.find((kind) => kind in assertion) as AssertionKind

export interface Fixture {
  /** The file it was read from, as given. */
  file: string
  name?: string
  options: Record<string, unknown>
  clock?: string
  world: World
  assertions: Assertion[]
  /** The line (from 1) where the value at a JSON pointer begins in the file, when known (YAML). */
  lineOf?: (pointer: string) => number | undefined
}

/** A fixture that cannot be run: the file, where in the document (a JSON pointer), and the rule it breaks. */
export class FixtureError extends Error {
  readonly code = 'invalid-fixture'
  constructor (readonly file: string, readonly path: string, readonly rule: string, readonly line?: number) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${path === '' ? '(the document)' : path}: ${rule}`)
    this.name = 'FixtureError'
  }
}
