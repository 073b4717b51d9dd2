// What a change announced by the database (migration 20261204090000) or made
// by this instance means for the cached decisions: the scopes it touches.
// Anything not understood drops everything: a cache that guesses is wrong.
import { resourceScope, subjectScope, typeScope, type DecisionCache } from './decision-cache.js'

/** A change of grants, owners or parents on these resources; a null id is the type's own (type-level) grants. */
export function resourcesChanged (cache: DecisionCache, refs: Iterable<{ resource: string, id: string | null }>): void {
  const scopes: string[] = []
  for (const { resource, id } of refs) {
    scopes.push(id === null ? typeScope(resource) : resourceScope(resource, id))
    // Type-level grants do not flow down a hierarchy; what is held on (or where) an instance does.
    if (id !== null) for (const type of cache.below.get(resource) ?? []) scopes.push(typeScope(type))
  }
  cache.invalidate(scopes)
}

/** A membership change reaching these principals. */
export function subjectsChanged (cache: DecisionCache, subjects: Iterable<{ kind: 'user' | 'group', id: string }>): void {
  const scopes: string[] = []
  for (const { kind, id } of subjects) scopes.push(subjectScope(kind, id))
  cache.invalidate(scopes)
}

const isText = (value: unknown): value is string => typeof value === 'string'

/** Applies one notification's payload. */
export function applyNotification (cache: DecisionCache, payload: string): void {
  let message: unknown
  try {
    message = JSON.parse(payload)
  } catch {
    cache.invalidateAll()
    return
  }
  const { r, s } = (message ?? {}) as { r?: unknown, s?: unknown }
  if (Array.isArray(r) && r.every((ref) => Array.isArray(ref) && isText(ref[0]) && (ref[1] === null || isText(ref[1])))) {
    resourcesChanged(cache, (r as Array<[string, string | null]>).map(([resource, id]) => ({ resource, id })))
    return
  }
  if (Array.isArray(s) && s.every((who) => Array.isArray(who) && (who[0] === 'user' || who[0] === 'group') && isText(who[1]))) {
    subjectsChanged(cache, (s as Array<['user' | 'group', string]>).map(([kind, id]) => ({ kind, id })))
    return
  }
  cache.invalidateAll()
}

/**
 * What this instance's own writes tell its cache, before they are
 * acknowledged. Who is below a group is not known here: a group's change
 * drops everything (the notification that follows names them, for the
 * other instances).
 */
export function localChanges (cache: DecisionCache): {
  resources: (refs: ReadonlyArray<{ resource: string, id: string | null }>) => void
  subjects: (members: ReadonlyArray<{ kind: 'user' | 'group', id: string }>) => void
} {
  return {
    resources: (refs) => { resourcesChanged(cache, refs) },
    subjects: (members) => {
      if (members.some((member) => member.kind === 'group')) cache.invalidateAll()
      else subjectsChanged(cache, members)
    }
  }
}
