// `typeLevelGrants: { forbid: [...] }`: resource types on which no grant may
// name the whole type. A type-level grant counts on every resource of the
// type, so in a multi-tenant application it is the one grant that spans
// tenants; forbidding it leaves per-resource grants (and what flows down a
// hierarchy from a tenant's root) as the only way in.
//
// A slice of its own rather than a shape of `resources`: `resources` lists
// the types a grant may name, and `'any'` with a forbidden type is a sound
// combination; folding both into one value would make either awkward.
import { invalid, nameList } from './values.js'

export interface TypeLevelGrantOptions {
  /** Types no type-level grant may be written on (and a stored one is a security finding). */
  readonly forbidden: ReadonlySet<string>
}

export function typeLevelGrantsOption (value: unknown): TypeLevelGrantOptions {
  if (value === undefined) return Object.freeze({ forbidden: new Set<string>() })
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('typeLevelGrants', "must be an object { forbid: ['org', ...] }")
  for (const key of Object.keys(value)) {
    if (key !== 'forbid') invalid('typeLevelGrants', `has unknown key '${key}' (known: forbid)`)
  }
  const forbid = nameList('typeLevelGrants.forbid', (value as { forbid?: unknown }).forbid)
  return Object.freeze({ forbidden: new Set(forbid) })
}
