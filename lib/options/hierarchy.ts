// Resource hierarchies: which resource types may be placed under which, how
// deep a tree may grow, and which privileges a grant on an ancestor passes
// down each edge. Resolved once into the data the rule and the cache read.
import { isValidId } from '../decision/ids.js'
import { DEFAULT_MAX_ID_LENGTH } from './enforcement.js'
import { invalid, positiveInteger, subOptions } from './values.js'

/** Levels a tree may have below a root (a document in a folder in a project: 2). */
export const DEFAULT_MAX_DEPTH = 16
/** The most `maxDepth` may be: the closure's own bound (migration 20261207090000). */
export const MAX_HIERARCHY_DEPTH = 64
/**
 * Resources below a moved one whose paths one step of a move rewrites (see
 * `moveStep`). On the embedded database every other request waits for each
 * step; on PostgreSQL none does (reads never wait for a write there), so
 * steps are only there to bound how long a move holds the tree.
 */
export const DEFAULT_MOVE_STEP = { embedded: 100, server: 1000 } as const

/** One edge type: `child>parent`, as the closure records it. */
export const edgeOf = (child: string, parent: string): string => `${child}>${parent}`

export interface HierarchySettings {
  readonly maxDepth: number
  /**
   * A move made outside a host transaction rewrites the paths of the
   * resources below the moved one in steps of this many, each its own
   * transaction, so that requests are served between them; null: the
   * database's default (DEFAULT_MOVE_STEP).
   */
  readonly moveStep: number | null
  /** For each child type, the parent types it may have, each with the privileges that pass (null: all of them). */
  readonly parents: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string> | null>>
  /** Every type named, as child or parent: they count as known resource types. */
  readonly types: readonly string[]
  /** For each requested privilege, the edges (`child>parent`) it does not pass; absent: it passes every edge. */
  readonly blocked: ReadonlyMap<string, readonly string[]>
  /** For each type, the types that may be below it, at any depth: what a change on it may change the answers of. */
  readonly below: ReadonlyMap<string, readonly string[]>
}

const TYPE_KEYS = new Set(['parents'])
const PARENT_KEYS = new Set(['type', 'inherits'])
const KEYS = new Set(['maxDepth', 'moveStep', 'types'])

// A type is stored inside edges (`a>b`) and audit items (`type/id`): neither separator may be part of it.
function typeName (name: string, value: unknown): string {
  if (!isValidId(value, DEFAULT_MAX_ID_LENGTH) || value.includes('>') || value.includes('/')) {
    invalid(name, 'must be a resource type (a non-empty string without \'>\' or \'/\')')
  }
  return value
}

export function hierarchyOption (value: unknown, privileges: ReadonlySet<string>): HierarchySettings | null {
  if (value === undefined || value === false) return null
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('hierarchy', 'must be an object { maxDepth?, moveStep?, types }')
  const fields = subOptions('hierarchy', value as Record<string, unknown>, KEYS)
  const maxDepth = positiveInteger(fields, 'hierarchy.maxDepth', DEFAULT_MAX_DEPTH, MAX_HIERARCHY_DEPTH)
  const moveStep = fields['hierarchy.moveStep'] === undefined ? null : positiveInteger(fields, 'hierarchy.moveStep', 0, 1_000_000)
  const types = fields['hierarchy.types']
  if (typeof types !== 'object' || types === null || Array.isArray(types) || Object.keys(types).length === 0) {
    invalid('hierarchy.types', 'must be an object naming, for each child type, its allowed parents: { document: { parents: [\'folder\'] } }')
  }
  const parents = new Map<string, Map<string, ReadonlySet<string> | null>>()
  const named = new Set<string>()
  for (const [child, spec] of Object.entries(types as Record<string, unknown>)) {
    const where = `hierarchy.types.${child}`
    typeName(where, child)
    named.add(child)
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) invalid(where, 'must be an object { parents: [...] }')
    const list = subOptions(where, spec as Record<string, unknown>, TYPE_KEYS)[`${where}.parents`]
    if (!Array.isArray(list) || list.length === 0) invalid(`${where}.parents`, 'must be a non-empty array of types or { type, inherits }')
    const edges = new Map<string, ReadonlySet<string> | null>()
    for (const [index, item] of (list as unknown[]).entries()) {
      const at = `${where}.parents[${index}]`
      let parent: string
      let inherits: ReadonlySet<string> | null = null
      if (typeof item === 'string') parent = typeName(at, item)
      else {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) invalid(at, 'must be a type or { type, inherits }')
        const sub = subOptions(at, item as Record<string, unknown>, PARENT_KEYS)
        parent = typeName(`${at}.type`, sub[`${at}.type`])
        const passes = sub[`${at}.inherits`]
        if (!Array.isArray(passes)) invalid(`${at}.inherits`, 'must be an array of privileges (those a grant on the parent passes down)')
        for (const privilege of passes as unknown[]) {
          if (typeof privilege !== 'string' || !privileges.has(privilege)) {
            invalid(`${at}.inherits`, `names unknown privilege '${String(privilege)}' (known: ${[...privileges].join(', ')})`)
          }
        }
        inherits = Object.freeze(new Set(passes as string[]))
      }
      if (edges.has(parent)) invalid(`${where}.parents`, `names '${parent}' twice`)
      edges.set(parent, inherits)
      named.add(parent)
    }
    parents.set(child, edges)
  }
  const blocked = new Map<string, readonly string[]>()
  for (const privilege of privileges) {
    const stops: string[] = []
    for (const [child, edges] of parents) {
      for (const [parent, inherits] of edges) if (inherits !== null && !inherits.has(privilege)) stops.push(edgeOf(child, parent))
    }
    if (stops.length > 0) blocked.set(privilege, Object.freeze(stops.sort()))
  }
  return Object.freeze({
    maxDepth,
    moveStep,
    parents,
    types: Object.freeze([...named].sort()),
    blocked,
    below: belowOf(parents, named)
  })
}

function belowOf (parents: ReadonlyMap<string, ReadonlyMap<string, unknown>>, named: ReadonlySet<string>): Map<string, readonly string[]> {
  const children = new Map<string, string[]>()
  for (const [child, edges] of parents) {
    for (const parent of edges.keys()) children.set(parent, [...(children.get(parent) ?? []), child])
  }
  const below = new Map<string, readonly string[]>()
  for (const type of named) {
    const seen = new Set<string>()
    const stack = [...(children.get(type) ?? [])]
    while (stack.length > 0) {
      const next = stack.pop() as string
      if (seen.has(next)) continue
      seen.add(next)
      stack.push(...(children.get(next) ?? []))
    }
    if (seen.size > 0) below.set(type, Object.freeze([...seen].sort()))
  }
  return below
}
